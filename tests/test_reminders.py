"""The reminder service: exactly-once delivery by stdout, email, desktop and exec.

The helpers at the top (follow-ups in bulk, a real SMTP server on loopback, state checks) are
also used by tests/cli/test_remind.py.
"""

from __future__ import annotations

import base64
import email
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import select

from smallcrm import followups, mailer, reminders
from smallcrm.errors import Invalid, NotFound
from smallcrm.store import Db, open_db
from smallcrm.store.tables import Contact, FollowUp, User, now_utc


def add_user(db: Db, name: str, email_address: str | None = None) -> int:
    with db.write() as session:
        row = User(login=name.lower(), name=name, email=email_address, created_at=now_utc())
        session.add(row)
        session.flush()
        return row.id


def add_contact(db: Db, name: str) -> int:
    with db.write() as session:
        now = now_utc()
        row = Contact(name=name, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        return row.id


def add_followups(
    db: Db,
    count: int = 1,
    *,
    owner_id: int | None,
    due_at: datetime | None = None,
    title: str = "Follow-up {i}",
    contact_id: int | None = None,
    status: str = "open",
    spread: timedelta = timedelta(0),
) -> list[int]:
    """`count` follow-ups in one transaction, due at `due_at` (default an hour ago) + i*spread."""
    due_at = due_at or now_utc() - timedelta(hours=1)
    now = now_utc()
    with db.write() as session:
        rows = [
            FollowUp(
                title=title.format(i=i),
                due_at=due_at + i * spread,
                contact_id=contact_id,
                owner_id=owner_id,
                status=status,
                created_at=now,
                updated_at=now,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


@dataclass(frozen=True)
class State:
    reminded: set[int]
    claimed: set[int]
    all: set[int]


def state(db: Db) -> State:
    with db.read() as session:
        rows = session.exec(select(FollowUp)).all()
        return State(
            reminded={r.id for r in rows if r.reminded_at is not None},
            claimed={r.id for r in rows if r.claim_token is not None},
            all={r.id for r in rows},
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    tls: bool


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=policy.default)
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                parsed,  # type: ignore[arg-type]
                raw,
                session.ssl is not None,
            )
        )
        return "250 OK"

    def by_recipient(self) -> dict[str, Received]:
        return {rcpt: m for m in self.messages for rcpt in m.rcpt_tos}


class SmtpServer:
    """A real SMTP server on loopback (aiosmtpd), started and stopped by the tests."""

    def __init__(self, port: int | None = None, **options: Any) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.options = options
        self.controller: Any = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def env(self) -> dict[str, str]:
        return {
            "SMALLCRM_SMTP_HOST": "127.0.0.1",
            "SMALLCRM_SMTP_PORT": str(self.port),
            "SMALLCRM_SMTP_FROM": "crm@example.com",
        }


def checking_authenticator(user: str, password: str, inbox: Inbox) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        if isinstance(data, LoginPassword):
            login = data.login.decode()
            given = data.password.decode()
            inbox.logins.append((login, given))
            return AuthResult(success=login == user and given == password, handled=False)
        return AuthResult(success=False, handled=False)

    return authenticate


def secret_forms(password: str, user: str = "") -> list[str]:
    """The password and the ways AUTH encodes it: none may ever be printed."""
    return [
        password,
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
    ]


def self_signed_cert(directory: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1/localhost made with the openssl command, or None."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", str(key), "-out", str(cert), "-days", "2",
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


def wait_for(predicate: Any, timeout: float = 15.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# ============================================================================================
# The tests

PASSWORD = "s3cr3t-Hunter2!"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """conftest's template, checkpointed outside a transaction (its own checkpoint runs inside
    the BEGIN IMMEDIATE the engine adds and fails with "database table is locked")."""
    import sqlite3

    path = tmp_path_factory.mktemp("template-reminders") / "template.db"
    open_db(str(path)).dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return path


@pytest.fixture
def alice(db: Db) -> int:
    return add_user(db, "Alice", "alice@example.com")


def run(db: Db, **options: Any) -> reminders.Outcome:
    out = options.pop("out", None) or io.StringIO()
    return reminders.run(db, out=out, **options)


def exec_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------
# What is due, and exactly once


def test_due_followups_are_delivered_once_and_marked(db: Db, alice: int) -> None:
    contact = add_contact(db, "Ada Lovelace")
    ids = add_followups(db, 3, owner_id=alice, contact_id=contact, title="Call Ada {i}")
    out = io.StringIO()

    first = reminders.run(db, out=out)

    assert first.ok and sorted(f.id for f in first.delivered) == ids
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "Call Ada 0" in lines[0] and "Ada Lovelace" in lines[0] and "Alice" in lines[0]
    assert state(db).reminded == set(ids) and not state(db).claimed
    again = io.StringIO()
    second = reminders.run(db, out=again)
    assert second.ok and second.delivered == [] and again.getvalue() == ""


def test_snoozed_done_and_cancelled_followups_are_never_reminded(db: Db, alice: int) -> None:
    future = now_utc() + timedelta(hours=3)
    [snoozed] = add_followups(db, owner_id=alice, due_at=future)
    [done] = add_followups(db, owner_id=alice, status="done")
    [cancelled] = add_followups(db, owner_id=alice, status="cancelled")
    [due] = add_followups(db, owner_id=alice)

    outcome = run(db)

    assert [f.id for f in outcome.delivered] == [due]
    assert state(db).reminded == {due}
    assert {snoozed, done, cancelled}.isdisjoint(state(db).reminded)


def test_ahead_reminds_a_little_before_the_due_time(db: Db, alice: int) -> None:
    soon = add_followups(db, owner_id=alice, due_at=now_utc() + timedelta(minutes=10))
    later = add_followups(db, owner_id=alice, due_at=now_utc() + timedelta(minutes=30))

    assert run(db).delivered == []
    assert [f.id for f in run(db, ahead="15m").delivered] == soon
    assert [f.id for f in run(db, ahead=timedelta(hours=1)).delivered] == later


def test_a_snoozed_followup_is_reminded_again_at_its_new_time(db: Db, alice: int) -> None:
    [fid] = add_followups(db, owner_id=alice)
    assert len(run(db).delivered) == 1
    followups.snooze(db, fid, now_utc() - timedelta(minutes=1))  # snoozed into the past: due
    assert [f.id for f in run(db).delivered] == [fid]


def test_dry_run_shows_what_would_be_sent_and_claims_nothing(db: Db, alice: int) -> None:
    ids = add_followups(db, 2, owner_id=alice)
    out = io.StringIO()

    outcome = reminders.run(db, via="email", dry_run=True, out=out)

    assert outcome.dry_run and outcome.delivered == [] and outcome.failures == []
    assert [p.followup.id for p in outcome.planned] == ids
    assert {p.target for p in outcome.planned} == {"alice@example.com"}
    assert out.getvalue() == ""
    assert state(db).reminded == set() and state(db).claimed == set()
    assert len(run(db).delivered) == 2  # still due


def test_owner_narrows_the_run(db: Db, alice: int) -> None:
    bob = add_user(db, "Bob", "bob@example.com")
    [mine] = add_followups(db, owner_id=alice)
    [his] = add_followups(db, owner_id=bob)

    assert [f.id for f in run(db, owners=["bob"]).delivered] == [his]
    assert [f.id for f in run(db, owners=["alice", "bob"]).delivered] == [mine]
    with pytest.raises(NotFound, match="no user 'zed'"):
        run(db, owners=["zed"])


def test_do_not_contact_customers_still_remind_the_rep_with_the_flag_shown(
    db: Db, alice: int, tmp_path: Path
) -> None:
    """A reminder goes to the rep, not the customer: it is delivered, saying not to call."""
    quiet = add_contact(db, "Quiet Person")
    other = add_contact(db, "Chatty Person")
    with db.write() as session:
        row = session.get(Contact, quiet)
        row.do_not_contact = True
        session.add(row)
    [flagged] = add_followups(db, owner_id=alice, contact_id=quiet)
    [plain] = add_followups(db, owner_id=alice, contact_id=other)
    out = io.StringIO()

    assert [p.do_not_contact for p in run(db, dry_run=True).planned] == [True, False]
    outcome = reminders.run(db, out=out)

    assert [f.id for f in outcome.delivered] == [flagged, plain]
    first, second = out.getvalue().splitlines()
    assert "Quiet Person" in first and reminders.DO_NOT_CONTACT_NOTE in first
    assert reminders.DO_NOT_CONTACT_NOTE not in second
    with db.write() as session:  # once more, through exec
        session.exec(update(FollowUp).values(reminded_at=None))
    log = tmp_path / "out.jsonl"
    assert run(db, via="exec", command=f"cat >> {log}").ok
    assert [(i["id"], i["do_not_contact"]) for i in exec_lines(log)] == [
        (flagged, True),
        (plain, False),
    ]


def test_bad_arguments_fail_before_anything_is_claimed(db: Db, alice: int) -> None:
    add_followups(db, owner_id=alice)
    with pytest.raises(Invalid, match="duration"):
        run(db, ahead="soonish")
    with pytest.raises(Invalid, match="unknown channel"):
        run(db, via="pigeon")
    with pytest.raises(Invalid, match="--exec"):
        run(db, via="exec")
    assert state(db).claimed == set() and state(db).reminded == set()


def test_stdout_lines_are_one_per_reminder_whatever_the_title(db: Db, alice: int) -> None:
    add_followups(db, owner_id=alice, title="Zoë\r\nnext line \x1b[2J ünïcödé 日本")
    out = io.StringIO()
    run(db, out=out)
    [text] = out.getvalue().splitlines()
    assert "Zoë" in text and "日本" in text and "\x1b" not in text and "\r" not in text


class ClosingPipe(io.StringIO):
    """stdout whose reader goes away (`| head -1`) after the first line."""

    def write(self, text: str) -> int:
        if self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_stdout_going_away_is_one_failure_and_the_rest_stay_due(db: Db, alice: int) -> None:
    ids = add_followups(db, 3, owner_id=alice)
    outcome = reminders.run(db, out=ClosingPipe())
    assert [f.id for f in outcome.delivered] == ids[:1]
    [failure] = outcome.failures
    assert str(failure) == "stdout: cannot write (Broken pipe); 2 follow-ups stay due"
    assert state(db).reminded == {ids[0]} and state(db).claimed == set()


# --------------------------------------------------------------------------------------------
# Claims and leases


def test_a_claim_held_by_a_live_run_is_not_delivered_until_its_lease_expires(
    db: Db, alice: int
) -> None:
    [fid] = add_followups(db, owner_id=alice)
    token, held = reminders.claim(db, cutoff=now_utc(), lease=timedelta(minutes=10))
    assert [f.id for f in held] == [fid]

    assert run(db).delivered == []  # another run holds it
    later = now_utc() + timedelta(minutes=11)  # that run died; its lease ran out
    assert [f.id for f in run(db, now=later).delivered] == [fid]
    assert reminders.mark_reminded(db, token, [fid]) == 0  # the dead run cannot mark it


def test_failed_delivery_releases_the_claim_for_the_next_run(db: Db, alice: int) -> None:
    add_followups(db, 2, owner_id=alice)
    outcome = run(db, via="exec", command="exit 3")
    assert len(outcome.failures) == 2
    assert all(str(f).startswith("exec: ") and "status 3" in str(f) for f in outcome.failures)
    assert state(db).claimed == set() and state(db).reminded == set()
    assert len(run(db).delivered) == 2


def test_the_lease_is_renewed_while_a_slow_delivery_runs(
    db: Db, db_target: str, alice: int, tmp_path: Path
) -> None:
    [fid] = add_followups(db, owner_id=alice)
    out = tmp_path / "out.jsonl"
    seen: list[list[int]] = []

    def rival() -> None:  # a second run, long after the first run's lease would have expired
        time.sleep(0.9)
        other = open_db(db_target)
        try:
            seen.append([f.id for f in reminders.claim(other, cutoff=now_utc())[1]])
        finally:
            other.dispose()

    thread = threading.Thread(target=rival)
    thread.start()
    outcome = run(db, via="exec", command=f"sleep 1.5; cat >> {out}", lease=timedelta(seconds=0.3))
    thread.join()

    assert seen == [[]]
    assert [f.id for f in outcome.delivered] == [fid]
    assert [item["id"] for item in exec_lines(out)] == [fid]


def test_concurrent_claims_in_threads_never_overlap(db: Db, db_target: str, alice: int) -> None:
    ids = add_followups(db, 300, owner_id=alice)
    barrier = threading.Barrier(3)
    claimed: list[list[int]] = []

    def worker() -> None:
        mine = open_db(db_target)
        try:
            barrier.wait()
            for _ in range(5):
                claimed.append([f.id for f in reminders.claim(mine, cutoff=now_utc())[1]])
        finally:
            mine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [fid for batch in claimed for fid in batch]
    assert sorted(every) == ids  # each claimed exactly once


WORKER = r"""
import os, sys, time
from sqlalchemy import text
from smallcrm.store import open_db
from smallcrm import reminders
target, out, ready, go = sys.argv[1:5]
db = open_db(target)
lines = open(out, "a", encoding="utf-8")
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.005)
deadline = time.monotonic() + 30
runs = 0
while time.monotonic() < deadline:
    outcome = reminders.run(db, out=lines)  # stdout channel, into this worker's file
    assert outcome.ok, outcome.failures
    runs += 1
    time.sleep(0.05)  # cron-like: runs overlap, they do not spin
    with db.read() as session:
        left = session.execute(text("SELECT count(*) FROM followup WHERE reminded_at IS NULL"))
        if left.scalar() == 0:
            break
print(runs)
"""


def delivered_ids(*outputs: Path | str | bytes) -> Counter[int]:
    """How often each follow-up id appears in stdout-channel lines (files or captured text)."""
    found: Counter[int] = Counter()
    for output in outputs:
        if isinstance(output, Path):
            output = output.read_text("utf-8") if output.exists() else ""
        if isinstance(output, bytes):
            output = output.decode("utf-8")
        found.update(int(m) for m in re.findall(r"^\S+ \S+  follow-up (\d+): ", output, re.M))
    return found


def overlapping_runs(
    db: Db, target: str, tmp_path: Path, owner: int, workers: int, count: int = 300
) -> list[Path]:
    """`workers` processes run remind over and over while `count` follow-ups fall due a few
    milliseconds apart, so their claims interleave; returns each worker's output file."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs, outs, readies = [], [], []
    go = tmp_path / "go"
    for n in range(workers):
        out, ready = tmp_path / f"worker{n}.txt", tmp_path / f"ready{n}"
        outs.append(out)
        readies.append(ready)
        argv = [sys.executable, "-c", WORKER, target, str(out), str(ready), str(go)]
        procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE))
    assert wait_for(lambda: all(r.exists() for r in readies), timeout=60)
    add_followups(db, count, owner_id=owner, due_at=now_utc(), spread=timedelta(milliseconds=3))
    go.touch()
    for proc in procs:
        stdout, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        assert int(stdout) > 0
    return outs


@pytest.mark.slow
def test_overlapping_processes_deliver_each_followup_exactly_once(
    db: Db, db_target: str, tmp_path: Path, alice: int
) -> None:
    """Three processes claim while follow-ups keep falling due, so each claims some of them
    (tests/cli/test_remind.py starts two and three real `smallcrm remind` at once)."""
    outs = overlapping_runs(db, db_target, tmp_path, alice, workers=3)

    delivered = delivered_ids(*outs)
    assert len(delivered) == 300
    assert set(delivered.values()) == {1}
    assert len(state(db).reminded) == 300 and state(db).claimed == set()


# --------------------------------------------------------------------------------------------
# exec


def test_exec_gets_the_followup_as_json_on_stdin_and_no_shell_sees_the_title(
    db: Db, alice: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "pwned"
    title = f"$(touch {marker}) `touch {marker}`; touch {marker} | x & y > z \"'\\ Zoë\r\n"
    contact = add_contact(db, "Ada Lovelace")
    [fid] = add_followups(db, owner_id=alice, contact_id=contact, title=title)
    out = tmp_path / "out.jsonl"
    env_out = tmp_path / "env.txt"
    monkeypatch.setenv("SMALLCRM_SMTP_PASSWORD", PASSWORD)

    outcome = run(db, via="exec", command=f"cat >> {out}; env > {env_out}")

    assert outcome.ok
    [item] = exec_lines(out)
    assert item["id"] == fid and item["title"] == title
    assert item["contact"] == "Ada Lovelace" and item["contact_id"] == contact
    assert item["owner"] == "Alice" and item["owner_email"] == "alice@example.com"
    assert item["status"] == "open"
    assert datetime.fromisoformat(item["due_at"]).utcoffset() is not None
    for name in ("company_id", "company", "lead_id", "reminded_at", "done_at"):
        assert name in item
    assert not marker.exists()
    env_text = env_out.read_text()
    assert PASSWORD not in env_text and f"SMALLCRM_FOLLOWUP_ID={fid}" in env_text


def test_one_failing_command_does_not_stop_the_others(db: Db, alice: int, tmp_path: Path) -> None:
    ids = add_followups(db, 3, owner_id=alice)
    bad = ids[1]
    out = tmp_path / "out.jsonl"
    command = f'test "$SMALLCRM_FOLLOWUP_ID" != {bad} || exit 7; cat >> {out}'

    outcome = run(db, via="exec", command=command)

    assert [f.id for f in outcome.delivered] == [ids[0], ids[2]]
    [failure] = outcome.failures
    assert str(failure) == f"exec: follow-up {bad}: command exited with status 7"
    assert state(db).reminded == {ids[0], ids[2]} and state(db).claimed == set()


def test_a_command_that_hangs_is_stopped_and_retried_later(
    db: Db, alice: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_followups(db, owner_id=alice)
    monkeypatch.setenv("SMALLCRM_REMIND_EXEC_TIMEOUT", "0.3")
    [failure] = run(db, via="exec", command="sleep 5").failures
    assert "did not finish within 0.3 s" in str(failure)
    assert state(db).reminded == set() and state(db).claimed == set()


# --------------------------------------------------------------------------------------------
# desktop


def fake_notify_send(directory: Path, body: str) -> Path:
    directory.mkdir(exist_ok=True)
    script = directory / "notify-send"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return directory


def test_desktop_without_notify_send_is_a_clear_error(
    db: Db, alice: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_followups(db, owner_id=alice)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    [failure] = run(db, via="desktop").failures
    assert str(failure).startswith("desktop: notify-send not found")
    assert state(db).claimed == set() and state(db).reminded == set()


def test_desktop_notifies_through_notify_send(
    db: Db, alice: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "args"
    marker = tmp_path / "pwned"
    bin_dir = fake_notify_send(tmp_path / "bin", f'printf "%s\\n" "$@" >> {log}\n')
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    [fid] = add_followups(db, owner_id=alice, title=f"<b>Call</b> $(touch {marker})")

    outcome = run(db, via="desktop")

    assert [f.id for f in outcome.delivered] == [fid]
    args = log.read_text()
    assert f"Follow-up {fid} due" in args and "&lt;b&gt;Call&lt;/b&gt;" in args
    assert not marker.exists()


def test_desktop_failure_is_reported_and_retried(
    db: Db, alice: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = fake_notify_send(tmp_path / "bin", "echo 'Cannot autolaunch D-Bus' >&2; exit 1\n")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    add_followups(db, owner_id=alice)
    [failure] = run(db, via="desktop").failures
    assert str(failure).startswith("desktop: ") and "Cannot autolaunch D-Bus" in str(failure)
    assert state(db).reminded == set() and state(db).claimed == set()


# --------------------------------------------------------------------------------------------
# email


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


def test_email_goes_to_each_owner_in_one_message(db: Db, alice: int, smtp: SmtpServer) -> None:
    bob = add_user(db, "Bob", "bob@example.com")
    contact = add_contact(db, "Ada Lovelace")
    mine = add_followups(db, 2, owner_id=alice, contact_id=contact, title="Call Zoë {i}")
    [his] = add_followups(db, owner_id=bob, title="Send the offer")

    outcome = run(db, via="email")

    assert outcome.ok and len(outcome.delivered) == 3
    inbox = smtp.inbox.by_recipient()
    assert set(inbox) == {"alice@example.com", "bob@example.com"}
    assert len(smtp.inbox.messages) == 2
    to_alice = inbox["alice@example.com"]
    assert to_alice.mail_from == "crm@example.com"
    assert to_alice.message["Subject"].startswith("smallcrm: 2 follow-ups due")
    assert to_alice.message["To"].addresses[0].addr_spec == "alice@example.com"
    body = to_alice.message.get_content()
    assert "Call Zoë 0" in body and "Call Zoë 1" in body and "Ada Lovelace" in body
    assert f"follow-up {mine[0]}" in body and "Send the offer" not in body
    to_bob = inbox["bob@example.com"]
    assert to_bob.message["Subject"].startswith("smallcrm: 1 follow-up due")
    assert "Send the offer" in to_bob.message.get_content() and f"follow-up {his}" in (
        to_bob.message.get_content()
    )
    assert state(db).reminded == {*mine, his}
    assert run(db, via="email").delivered == [] and len(smtp.inbox.messages) == 2


def test_an_owner_without_email_fails_and_the_others_still_get_theirs(
    db: Db, alice: int, smtp: SmtpServer
) -> None:
    carol = add_user(db, "Carol")
    [hers] = add_followups(db, owner_id=carol)
    [nobodys] = add_followups(db, owner_id=None)
    [mine] = add_followups(db, owner_id=alice)

    outcome = run(db, via="email")

    assert [f.id for f in outcome.delivered] == [mine]
    messages = sorted(str(f) for f in outcome.failures)
    assert len(messages) == 2 and all(m.startswith("email: ") for m in messages)
    assert f"email: user 'Carol' has no email address, so follow-ups {hers} stay due" in messages
    assert any("no owner" in m and str(nobodys) in m for m in messages)
    assert state(db).reminded == {mine} and state(db).claimed == set()


def test_crlf_in_a_title_or_name_cannot_add_mail_headers(db: Db, smtp: SmtpServer) -> None:
    owner = add_user(db, "Eve\r\nBcc: boss@example.com", "eve@example.com")
    title = "Hi\r\nBcc: evil@example.com\r\nSubject: pwned\n\nbody"
    add_followups(db, owner_id=owner, title=title)
    add_followups(db, owner_id=owner, title="Second\nX-Injected: 1")

    outcome = run(db, via="email")

    assert outcome.ok and len(outcome.delivered) == 2
    [received] = smtp.inbox.messages
    assert received.rcpt_tos == ["eve@example.com"]
    message = received.message
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["eve@example.com"]
    assert message["Subject"].startswith("smallcrm: 2 follow-ups due")
    assert "Hi⏎Bcc: evil@example.com⏎Subject: pwned" in message.get_content()
    headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert b"evil@" not in headers and b"pwned" not in headers


def test_server_down_fails_marks_nothing_and_the_next_run_delivers(
    db: Db, alice: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SmtpServer()  # not started yet
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    ids = add_followups(db, 2, owner_id=alice)

    outcome = run(db, via="email")

    [failure] = outcome.failures
    assert str(failure).startswith("email: to alice@example.com")
    assert "cannot connect to SMTP server 127.0.0.1" in str(failure)
    assert state(db).reminded == set() and state(db).claimed == set()
    server.start()
    try:
        again = run(db, via="email")
    finally:
        server.stop()
    assert again.ok and sorted(f.id for f in again.delivered) == ids
    assert len(server.inbox.messages) == 1


def test_smtp_login_works_and_a_refused_password_is_never_shown(
    db: Db, alice: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SmtpServer(auth_require_tls=False, auth_required=True)
    server.options["authenticator"] = checking_authenticator("crm", PASSWORD, server.inbox)
    server.start()
    try:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SMALLCRM_SMTP_USER", "crm")
        monkeypatch.setenv("SMALLCRM_SMTP_PASSWORD", "wrong-" + PASSWORD)
        add_followups(db, owner_id=alice)
        [failure] = run(db, via="email").failures
        monkeypatch.setenv("SMALLCRM_SMTP_PASSWORD", PASSWORD)
        good = run(db, via="email")
    finally:
        server.stop()
    assert "refused the login of user 'crm'" in str(failure)
    for secret in secret_forms("wrong-" + PASSWORD, "crm") + secret_forms(PASSWORD, "crm"):
        assert secret not in str(failure)
    assert good.ok and len(good.delivered) == 1
    assert server.inbox.logins[-1] == ("crm", PASSWORD)
    assert PASSWORD not in repr(mailer.smtp_settings())


def test_a_config_file_with_the_password_must_be_private(
    db: Db, alice: int, smtp: SmtpServer, isolated_env: Path
) -> None:
    config = isolated_env / "config.toml"
    config.write_text(f'[smtp]\nuser = "crm"\npassword = "{PASSWORD}"\n')
    config.chmod(0o644)
    add_followups(db, owner_id=alice)

    [failure] = run(db, via="email").failures

    assert "other users can read it" in str(failure) and "chmod 600" in str(failure)
    assert PASSWORD not in str(failure)
    assert state(db).claimed == set() and state(db).reminded == set()
    config.chmod(0o600)
    assert run(db, via="email").ok  # the server offers no AUTH: sent without logging in
    assert len(smtp.inbox.messages) == 1


def test_the_password_is_only_sent_encrypted_to_a_remote_server(
    db: Db, alice: int, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLCRM_SMTP_USER", "crm")
    monkeypatch.setenv("SMALLCRM_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setattr(mailer, "_is_loopback", lambda host: False)
    add_followups(db, owner_id=alice)

    [failure] = run(db, via="email").failures

    assert "refusing to send the password unencrypted" in str(failure)
    assert PASSWORD not in str(failure) and smtp.inbox.messages == []
    monkeypatch.setenv("SMALLCRM_SMTP_SECURITY", "none")  # the user said so
    assert run(db, via="email").ok and len(smtp.inbox.messages) == 1


def test_smtp_settings_are_checked_before_anything_is_claimed(
    db: Db, alice: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_followups(db, owner_id=alice)
    for name, value, expected in [
        ("SMALLCRM_SMTP_SECURITY", "tls", "unknown smtp.security 'tls'"),
        ("SMALLCRM_SMTP_PORT", "http", "smtp.port 'http' is not a port number"),
        ("SMALLCRM_SMTP_FROM", "not an address", "is not an email address"),
    ]:
        monkeypatch.setenv(name, value)
        [failure] = run(db, via="email").failures
        assert str(failure).startswith("email: ") and expected in str(failure)
        monkeypatch.delenv(name)
    assert state(db).claimed == set() and state(db).reminded == set()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


def server_context(certificate: tuple[Path, Path]) -> Any:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.mark.parametrize("security", [None, "starttls"])
def test_starttls_is_used_when_the_server_offers_it(
    db: Db,
    alice: int,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    security: str | None,
) -> None:
    server = SmtpServer(tls_context=server_context(certificate), require_starttls=True)
    server.options["authenticator"] = checking_authenticator("crm", PASSWORD, server.inbox)
    server.start()
    try:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        monkeypatch.setenv("SMALLCRM_SMTP_USER", "crm")
        monkeypatch.setenv("SMALLCRM_SMTP_PASSWORD", PASSWORD)
        if security:
            monkeypatch.setenv("SMALLCRM_SMTP_SECURITY", security)
        add_followups(db, owner_id=alice)
        outcome = run(db, via="email")
    finally:
        server.stop()
    assert outcome.ok, outcome.failures
    [received] = server.inbox.messages
    assert received.tls and server.inbox.logins == [("crm", PASSWORD)]


def test_starttls_required_but_not_offered_is_an_error(
    db: Db, alice: int, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLCRM_SMTP_SECURITY", "starttls")
    add_followups(db, owner_id=alice)
    [failure] = run(db, via="email").failures
    assert "does not offer STARTTLS" in str(failure) and smtp.inbox.messages == []


def test_implicit_tls(
    db: Db, alice: int, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SmtpServer(ssl_context=server_context(certificate)).start()
    try:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SMALLCRM_SMTP_SECURITY", "ssl")
        add_followups(db, owner_id=alice)
        monkeypatch.setenv("SSL_CERT_FILE", os.devnull)  # an untrusted certificate: refused
        [failure] = run(db, via="email").failures
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        outcome = run(db, via="email")
    finally:
        server.stop()
    assert "certificate" in str(failure).lower()
    assert outcome.ok and len(server.inbox.messages) == 1
