"""A throw-away PostgreSQL server for the tests, and fresh databases made from a template.

The server is the distribution's own `initdb` + `pg_ctl` run into a temp directory, on a free
port on 127.0.0.1, with trust authentication and durability switched off (fsync, full-page
writes, synchronous commit: a crashed test server is simply thrown away). The server refuses
to run as root, so under root it runs as the `postgres` OS user.

Each test gets its own database, `CREATE DATABASE ... TEMPLATE` of one migrated once per
session. Creating one costs ~0.1 s of server time, so a background thread keeps a couple ready
and drops used ones while the tests run.

conftest.py loads this file by path (pytest runs with --import-mode=importlib).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",
}
OS_USER = "postgres"
ADMIN = "postgres"
TEMPLATE = "smallcrm_template"


class Unavailable(Exception):
    """No PostgreSQL server can be started here (the message says why)."""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl: $SMALLCRM_TEST_PG_BINDIR, PATH, or the newest
    /usr/lib/postgresql/*/bin (where Debian's `postgresql` package puts them, off PATH)."""
    candidates: list[Path] = []
    if env := os.environ.get("SMALLCRM_TEST_PG_BINDIR"):
        candidates.append(Path(env))
    if found := shutil.which("initdb"):
        candidates.append(Path(found).resolve().parent)
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda p: [int(x) for x in Path(p).parent.name.split(".") if x.isdigit()])
    candidates.extend(Path(p) for p in reversed(versions))
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise Unavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


def check_available() -> None:
    """Raise Unavailable when a server cannot be started (cheap: no process is run)."""
    find_bindir()
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            raise Unavailable(f"running as root and there is no '{OS_USER}' user") from None
        if not (shutil.which("runuser") or shutil.which("su")):
            raise Unavailable("running as root and neither runuser nor su is installed")


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if runuser := shutil.which("runuser"):
        return [runuser, "-u", OS_USER, "--", *command]
    import shlex

    return ["su", OS_USER, "-s", "/bin/sh", "-c", shlex.join(command)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One running server; `stop()` removes it and its files."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="smallcrm-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self.running = False
        if os.geteuid() == 0:
            entry = pwd.getpwnam(OS_USER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        try:
            self._init()
            self._start()
        except BaseException:
            self.stop()
            raise

    def _run(self, *command: str, timeout: float = 120) -> None:
        done = subprocess.run(
            _as_server_user([str(self.bindir / command[0]), *command[1:]]),
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise Unavailable(
                f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{log}"
            )

    def _init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", ADMIN, "--auth=trust", "--encoding=UTF8",
            "--no-locale", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def _start(self) -> None:
        conf = self.data / "postgresql.conf"
        base = conf.read_text()
        last_error: Exception | None = None
        for _attempt in range(5):
            self.port = _free_port()
            settings = {**SERVER_SETTINGS, "port": str(self.port)}
            extra = "".join(f"{key} = {value}\n" for key, value in settings.items())
            conf.write_text(base + "\n# smallcrm tests\n" + extra)
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w",
                          "-t", "60", "start")  # fmt: skip
            except Unavailable as error:  # most likely the port was taken meanwhile
                last_error = error
                continue
            self.running = True
            self._watch()
            return
        raise Unavailable(f"the test server did not start: {last_error}")

    def _watch(self) -> None:
        """Stop the server and remove its files if this process dies without tearing down
        (killed by a timeout, say): a detached shell polls for it."""
        import shlex

        stop = shlex.join(
            _as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m",
                             "immediate", "stop"])
        )  # fmt: skip
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
            f"if [ -e {shlex.quote(str(self.data / 'postmaster.pid'))} ]; then {stop}; fi; "
            f"rm -rf {shlex.quote(str(self.root))}"
        )
        subprocess.Popen(
            ["/bin/sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{ADMIN}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=ADMIN, dbname=database, autocommit=True
        )

    def cpu_seconds(self) -> float:
        """CPU the server and its finished backends used (from the postmaster's /proc stat)."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.running and os.environ.get("SMALLCRM_TEST_PG_STATS"):
            with contextlib.suppress(Exception):
                print(f"\nPostgreSQL test server used {self.cpu_seconds():.1f} s of CPU")
        if self.running:
            with contextlib.suppress(Exception):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)


class Databases:
    """Clean databases for tests, reused: after a test, a background thread puts its database
    back in the template's state (every table emptied and refilled with the template's rows,
    every sequence set back), which costs a fraction of `CREATE DATABASE` (a ~8 MB copy of
    the catalogs). A database whose schema a test changed is dropped and replaced instead."""

    def __init__(self, server: Server, *, ready: int = 2) -> None:
        from smallcrm.store import open_db

        self.server = server
        self.want_ready = ready
        with server.connect() as admin:
            admin.execute(f"CREATE DATABASE {TEMPLATE}")
        open_db(server.url(TEMPLATE)).dispose()
        with server.connect(TEMPLATE) as conn:
            self._snapshot = _Snapshot(conn)
        self._ready: deque[str] = deque()
        self._used: deque[str] = deque()
        self._counter = 0
        self.stats = {"taken": 0, "waited_s": 0.0, "cleaned": 0, "clean_s": 0.0, "replaced": 0}
        self._error: BaseException | None = None
        self._closing = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="pg-databases", daemon=True)
        self._thread.start()

    def take(self) -> str:
        """The name of a database in the template's state that no test is using."""
        started = time.monotonic()
        with self._cond:
            while not self._ready:
                if self._error is not None:
                    raise RuntimeError(f"cannot prepare a test database: {self._error}")
                self._cond.notify_all()
                self._cond.wait(timeout=1)
            name = self._ready.popleft()
            self.stats["taken"] += 1
            self.stats["waited_s"] += time.monotonic() - started
            self._cond.notify_all()
            return name

    def give_back(self, name: str) -> None:
        with self._cond:
            self._used.append(name)
            self._cond.notify_all()

    def new_empty(self) -> str:
        """A new database without any schema (dropped at the end of the session)."""
        with self._cond:
            self._counter += 1
            name = f"empty_{self._counter}"
        with self.server.connect() as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return name

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=60)
        if os.environ.get("SMALLCRM_TEST_PG_STATS"):
            shown = ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                              for k, v in self.stats.items())  # fmt: skip
            print(f"\nPostgreSQL test databases: {shown}")

    def _work(self) -> None:
        connections: dict[str, Any] = {}
        try:
            with self.server.connect() as admin:
                while True:
                    with self._cond:
                        while not (
                            self._closing
                            or self._used
                            or len(self._ready) + len(self._used) < self.want_ready
                        ):
                            self._cond.wait()
                        if self._closing:
                            return
                        used = self._used.popleft() if self._used else None
                    name = self._clean(admin, connections, used) if used else self._create(admin)
                    with self._cond:
                        self._ready.append(name)
                        self._cond.notify_all()
        except BaseException as error:  # handed to the next take()
            with self._cond:
                self._error = error
                self._cond.notify_all()
        finally:
            for conn in connections.values():
                with contextlib.suppress(Exception):
                    conn.close()

    def _create(self, admin: Any) -> str:
        with self._cond:
            self._counter += 1
            name = f"test_{self._counter}"
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return name

    def _clean(self, admin: Any, connections: dict[str, Any], name: str) -> str:
        conn = connections.get(name)
        if conn is None:
            conn = connections[name] = self.server.connect(name)
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> %s",
            (name, conn.info.backend_pid),
        )
        started = time.monotonic()
        try:
            self._snapshot.restore(conn)
            self.stats["cleaned"] += 1
            self.stats["clean_s"] += time.monotonic() - started
            return name
        except Exception:  # the test changed the schema or left a lock: start afresh
            self.stats["replaced"] += 1
            connections.pop(name)
            with contextlib.suppress(Exception):
                conn.close()
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return self._create(admin)


class _Snapshot:
    """The rows, sequence positions and schema fingerprint of the template database."""

    FINGERPRINT = (
        "SELECT md5(string_agg(c.relname || ':' || c.relkind::text || ':' "
        "|| COALESCE(a.attname, '') || ':' || COALESCE(a.atttypid::text, '') || ':' "
        "|| COALESCE(a.attnotnull::text, ''), "
        "',' ORDER BY c.relname, a.attnum)) || (SELECT string_agg(version_num, ',') "
        "FROM alembic_version) || (SELECT md5(COALESCE(string_agg(conname || convalidated::text, "
        "',' ORDER BY conname), '')) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace) || (SELECT md5(COALESCE(string_agg("
        "tgname || tgenabled::text, ',' ORDER BY tgname), '')) FROM pg_trigger) "
        "FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid "
        "AND a.attnum > 0 AND NOT a.attisdropped WHERE c.relnamespace = 'public'::regnamespace"
    )

    def __init__(self, conn: Any) -> None:
        self.fingerprint = conn.execute(self.FINGERPRINT).fetchone()[0]
        self.tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        ]
        self.rows: dict[str, bytes] = {}
        with conn.cursor() as cursor:
            for table in self.tables:
                with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                    data = b"".join(bytes(chunk) for chunk in copy)
                if data:
                    self.rows[table] = data
        self.sequences = conn.execute(
            "SELECT sequencename, COALESCE(last_value, start_value), last_value IS NOT NULL "
            "FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
        # DELETE, not TRUNCATE: a test leaves a handful of rows, and TRUNCATE makes new files
        # for every table and index. Foreign-key triggers are off (replica role) meanwhile.
        self.reset_sql = (
            "SET LOCAL lock_timeout = '10s'; SET LOCAL session_replication_role = replica; "
            + "".join(f"DELETE FROM {table}; " for table in self.tables)
            + "".join(
                f"SELECT setval('{seq}', {value}, {called}); "
                for seq, value, called in self.sequences
            )
        )

    def restore(self, conn: Any) -> None:
        if conn.execute(self.FINGERPRINT).fetchone()[0] != self.fingerprint:
            raise RuntimeError("the schema changed")
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute(self.reset_sql)
            for table, data in self.rows.items():
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(data)
