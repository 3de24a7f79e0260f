"""The scratch file of an import: its validated rows wait here until the write.

A private SQLite file in the temp directory, whatever the real database is, so memory does not
grow with the input. Standard library only: a forked child validating part of a file (see
smallcrm.importing.parallel) stages into one before the database stack has loaded.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import tempfile
import time
import types
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from smallcrm.store.loading import SORT_THREADS

#: The columns a staged row starts with, before its values.
META = ("line", "key1", "key2", "action", "existing", "raw", "ord")
_ACTION = META.index("action")
#: The duplicate keys, each with a column of its hash after the values (see :meth:`repeated`).
KEYS = {"key1": "hash1", "key2": "hash2"}
_KEY_AT = [META.index(key) for key in KEYS]


def _bind_none_directly() -> None:
    """Let sqlite3 bind None without its adaptation lookup.

    The stdlib module looks every parameter that is not an int, float, str or bytes up in its
    adapters, and for None then probes `__adapt__` and `__conform__` before binding NULL:
    about half the cost of staging a row, whose cells are mostly empty. An adapter that
    returns None unchanged is found at once and binds the same NULL."""
    key = (type(None), sqlite3.PrepareProtocol)
    if key not in sqlite3.adapters:
        # A C function that returns None for None (no Python frame per cell): an empty
        # dict's `get`, which nothing can fill.
        sqlite3.register_adapter(type(None), _NOTHING.get)


_NOTHING: Mapping[Any, Any] = types.MappingProxyType({})


def _hashes(keys: Sequence[str | None]) -> Sequence[int | None]:
    """Each key's hash(), for :meth:`Scratch.repeated` to group by. Python salts str hashes per
    interpreter; a part staged by a forked child (the only other writer) shares the salt."""
    if keys.count(None) == len(keys):
        return keys
    return [None if key is None else hash(key) for key in keys]


SCRATCH_PREFIX = "smallcrm-import-"
#: A scratch folder untouched this long belongs to an import that was killed (kill -9, a
#: crash, a power cut): no import runs for a day, and a running one writes its file always.
ABANDONED_AFTER_S = 24 * 3600


def sweep_abandoned_scratch(now: float | None = None) -> None:
    """Remove this user's scratch folders that killed imports left in the temp directory."""
    now = time.time() if now is None else now
    home = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(home) if n.startswith(SCRATCH_PREFIX)]
    except OSError:
        return
    for name in names:
        folder = os.path.join(home, name)
        with contextlib.suppress(OSError):
            info = os.lstat(folder)
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != getattr(os, "getuid", int)():
                continue
            files = [os.path.join(folder, f) for f in os.listdir(folder)]
            newest = max([info.st_mtime, *(os.lstat(f).st_mtime for f in files)])
            if now - newest < ABANDONED_AFTER_S:
                continue
            for file in files:
                os.unlink(file)
            os.rmdir(folder)


class Scratch:
    """A throw-away SQLite file holding an import's validated rows until they are written.

    Table `staged`: one row per valid input row (its file line, one or two duplicate keys, the
    action decided for it, the id of the record it duplicates, the raw cells when a later
    check may still reject it, its number among the rows to insert), then one column per
    name in `columns`, then the keys' hashes. Table `bad`: the invalid rows. Table `ids`: keys
    resolved to record ids during the write (new companies).
    """

    def __init__(self, columns: Sequence[str], path: str | None = None) -> None:
        # In a private directory of its own, named until closed: the write phase ATTACHes it
        # to the database's connection to copy the rows over in SQL (see :func:`copy_staged`).
        # A `path` given is a part staged by another process, inside the main file's folder.
        if path is None:
            sweep_abandoned_scratch()
        self.folder = tempfile.mkdtemp(prefix=SCRATCH_PREFIX) if path is None else None
        self.path = path or os.path.join(self.folder or "", "scratch.db")
        self.columns = list(columns)
        self.attached: tuple[Any, str] | None = None
        # Rows by action and "bad", kept while rows are only added (see counts()).
        self._counts: Counter[str] | None = Counter()
        _bind_none_directly()
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            # 16 KB pages: staging half a million rows took 1.3 s instead of 1.6 s.
            self.conn.execute("PRAGMA page_size = 16384")
            self.conn.execute("PRAGMA journal_mode = OFF")
            self.conn.execute("PRAGMA synchronous = OFF")
            self.conn.execute("PRAGMA cache_size = -8000")  # 8 MB, whatever the file size
            data = "".join(f', "{name}"' for name in self.columns)
            hashes = "".join(f", {column} INTEGER" for column in KEYS.values())
            self.conn.execute(
                "CREATE TABLE staged (line INTEGER PRIMARY KEY, key1 TEXT, key2 TEXT, "
                f"action TEXT, existing INTEGER, raw TEXT, ord INTEGER{data}{hashes})"
            )
            self.conn.execute("CREATE TABLE bad (line INTEGER PRIMARY KEY, error TEXT, raw TEXT)")
            self.conn.execute("CREATE TABLE ids (key TEXT PRIMARY KEY, id INTEGER) WITHOUT ROWID")
            self.conn.execute("BEGIN")
        except BaseException:
            self.close()
            raise
        self._row = ", ".join([*META, *(f'"{name}"' for name in self.columns)])
        self._names = [*META, *(f'"{name}"' for name in self.columns), *KEYS.values()]
        self._inserts: dict[tuple[int, ...], str] = {}  # columns given -> INSERT

    def stage(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of (line, key1, key2, action, existing, raw, ord, *values); `ord` numbers the
        rows to insert from 0 in file order (see :meth:`renumber`), raw may be None."""
        if not rows:
            return
        # Columns that are empty in every row of the batch are left to their default (NULL):
        # sqlite3 binds a None ~3 times slower than an int, and most staged cells are empty.
        columns = list(zip(*rows, strict=True))
        columns += [_hashes(columns[at]) for at in _KEY_AT]
        given = tuple(i for i, values in enumerate(columns) if values.count(None) != len(rows))
        sql = self._inserts.get(given)
        if sql is None:
            names = ", ".join(self._names[i] for i in given)
            sql = self._inserts[given] = (
                f"INSERT INTO staged ({names}) VALUES ({', '.join('?' * len(given))})"
            )
        self.conn.executemany(sql, zip(*(columns[i] for i in given), strict=True))
        if self._counts is not None:
            self._counts.update(columns[_ACTION])

    def reject(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Invalid rows: (line, reason, raw cells as JSON), each line once."""
        if self._counts is not None:
            self._counts["bad"] += len(rows)
        self.conn.executemany("INSERT OR REPLACE INTO bad VALUES (?, ?, ?)", rows)

    def commit(self) -> None:
        """Keep what was staged so far (a part is read by the process that absorbs it)."""
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def part_path(self, name: str) -> str:
        """Where another process may stage a part of the rows (see :meth:`absorb`)."""
        if self.folder is None:
            raise ValueError("a part has no parts")
        return os.path.join(self.folder, f"{name}.db")

    def absorb(self, path: str, ord_offset: int, counts: Mapping[str, int] | None) -> None:
        """Add the rows a part (a Scratch file with the same columns, of later lines) staged,
        its rows to insert numbered on from `ord_offset`; `counts` are its :meth:`counts`."""
        if self._counts is not None and counts is not None:
            self._counts.update({k: v for k, v in counts.items() if k != "total"})
        else:
            self._counts = None
        self.commit()
        self.conn.execute("ATTACH DATABASE ? AS part", (path,))
        try:
            names = ", ".join("ord + ?" if name == "ord" else name for name in self._names)
            self.conn.execute("BEGIN")
            self.conn.execute(
                f"INSERT INTO staged SELECT {names} FROM part.staged ORDER BY line", (ord_offset,)
            )
            self.conn.execute("INSERT OR REPLACE INTO bad SELECT * FROM part.bad")
            self.conn.execute("COMMIT")
        finally:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.conn.execute("DETACH DATABASE part")

    def finish_staging(self, keys: Sequence[str] = tuple(KEYS)) -> None:
        """All rows are staged: index the hashes of the duplicate `keys` :meth:`repeated` will
        be asked about."""
        self.commit()
        self.conn.execute(f"PRAGMA threads = {SORT_THREADS}")
        for key in keys:
            column = KEYS[key]
            self.conn.execute(
                f"CREATE INDEX ix_{column} ON staged ({column}) WHERE {column} IS NOT NULL"
            )

    def repeated(self, key: str = "key1") -> list[tuple[int, int]]:
        """(line, first line with the same key) for every row whose key came earlier.

        Rows are grouped by the key's hash, then by the key among the few rows whose hash
        repeats: an index of a million 64-bit integers is built and grouped in half the time
        of one of their emails."""
        column = KEYS[key]
        return self.conn.execute(
            f"SELECT s.line, f.first FROM staged s JOIN "
            f"(SELECT {column} AS h, {key} AS k, MIN(line) AS first FROM staged "
            f"WHERE {column} IN (SELECT {column} FROM staged WHERE {column} IS NOT NULL "
            f"GROUP BY {column} HAVING COUNT(*) > 1) "
            f"GROUP BY {column}, {key} HAVING COUNT(*) > 1) f "
            f"ON s.{column} = f.h AND s.{key} = f.k "
            f"WHERE s.line > f.first ORDER BY s.line"
        ).fetchall()

    def set_action(self, changes: Iterable[tuple[str, int]]) -> None:
        changes = list(changes)
        if changes:
            self._counts = None
            self.conn.executemany("UPDATE staged SET action = ? WHERE line = ?", changes)

    def renumber(self) -> None:
        """Number the rows to insert 0, 1, … again after some changed their action."""
        self.conn.execute(
            "UPDATE staged SET ord = NULL WHERE action != 'insert' AND ord IS NOT NULL"
        )
        self.conn.execute(
            "UPDATE staged SET ord = n.ord FROM (SELECT line, row_number() OVER "
            "(ORDER BY line) - 1 AS ord FROM staged WHERE action = 'insert') AS n "
            "WHERE staged.line = n.line"
        )

    def move_to_bad(self, line: int, error: str, raw: str) -> None:
        self._counts = None
        self.conn.execute("DELETE FROM staged WHERE line = ?", (line,))
        self.conn.execute("INSERT OR REPLACE INTO bad VALUES (?, ?, ?)", (line, error, raw))

    def row(self, line: int) -> tuple[Any, ...] | None:
        return self.conn.execute(
            f"SELECT {self._row} FROM staged WHERE line = ?", (line,)
        ).fetchone()

    def counts(self) -> dict[str, int]:
        """Rows by action, `bad` (invalid) and `total`. Counted as rows are staged (a GROUP BY
        over a million rows takes a quarter of a second), and again by SQL after a change."""
        if self._counts is None:
            found = Counter(
                dict(self.conn.execute("SELECT action, COUNT(*) FROM staged GROUP BY action"))
            )
            found["bad"] = self.conn.execute("SELECT COUNT(*) FROM bad").fetchone()[0]
            self._counts = found
        return {
            **{k: v for k, v in self._counts.items() if v},
            "bad": self._counts["bad"],
            "total": self._counts.total(),
        }

    def rows(self, action: str, batch: int = 500) -> Iterator[list[tuple[Any, ...]]]:
        """Staged rows with this action in file order, a batch at a time."""
        cursor = self.conn.execute(
            f"SELECT {self._row} FROM staged WHERE action = ? ORDER BY line", (action,)
        )
        while chunk := cursor.fetchmany(batch):
            yield chunk

    def inserts(
        self,
        expressions: Sequence[str],
        params: Mapping[str, Any],
        *,
        link: str | None = None,
        batch: int = 5000,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The rows to insert, in file order, as `expressions` over the staged columns make
        them: `ord` is a row's number among them, from 0; `ids.id` is the id :meth:`set_ids`
        gave the key in the staged column `link`."""
        joined = f' LEFT JOIN ids ON ids.key = "{link}"' if link else ""
        cursor = self.conn.execute(
            f"SELECT {', '.join(expressions)} FROM staged{joined} "
            "WHERE action = 'insert' ORDER BY line",
            dict(params),
        )
        while chunk := cursor.fetchmany(batch):
            yield chunk

    def set_ids(self, pairs: Iterable[tuple[str, int]]) -> None:
        if self.attached is not None:
            conn, schema = self.attached
            sql = f'INSERT OR REPLACE INTO "{schema}".ids VALUES (?, ?)'
            conn.exec_driver_sql(sql, [tuple(pair) for pair in pairs])
            return
        self.conn.executemany("INSERT OR REPLACE INTO ids VALUES (?, ?)", pairs)

    def attached_to(self, conn: Any, schema: str) -> None:
        """The file is ATTACHed as `schema` to `conn`, whose write transaction now locks it:
        what is written to it until :meth:`close` goes through `conn` (reading stays here)."""
        self.attached = (conn, schema)

    def bad(self, limit: int | None = None) -> Iterator[tuple[int, str, str]]:
        sql = "SELECT line, error, raw FROM bad ORDER BY line"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        yield from self.conn.execute(sql)

    def insert_starts(self, every: int) -> list[int]:
        """The line of every `every`-th row to insert (ord 0, every, 2 * every, …)."""
        return [
            line
            for (line,) in self.conn.execute(
                "SELECT line FROM staged WHERE action = 'insert' AND ord % ? = 0 ORDER BY line",
                (int(every),),
            )
        ]

    def close(self) -> None:
        self.conn.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        if self.folder is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self.folder)
