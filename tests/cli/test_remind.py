"""`smallcrm remind` as cron runs it: the real command in subprocesses, overlapping runs, a real
SMTP server, kill -9, a minimal environment with stdin closed. Quick option checks run in-process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smallcrm.store import Db

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent


def _helpers() -> Any:
    """tests/test_reminders.py's helpers (pytest runs with --import-mode=importlib)."""
    name = "smallcrm_tests_reminders"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TESTS / "test_reminders.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


h = _helpers()
template_db = h.template_db  # its working template (see there)
PASSWORD = h.PASSWORD
TITLE = "Zoë Ωmega 日本 ☎ – naïve café"


def smallcrm_argv() -> list[str]:
    """The installed console script next to this Python, else `python -m smallcrm`."""
    script = Path(sys.executable).parent / "smallcrm"
    return [str(script)] if script.exists() else [sys.executable, "-m", "smallcrm"]


def child_env(**extra: str) -> dict[str, str]:
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": pythonpath, **extra}


def remind(
    target: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*smallcrm_argv(), "--db", target, "remind", *args],
        env=env or child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )


def text(data: bytes) -> str:
    return data.decode("utf-8")


def exec_into(path: Path, then: str = "") -> str:
    """An --exec command appending the follow-up's JSON line to `path` (shell builtins only)."""
    return f"read -r item; printf '%s\\n' \"$item\" >> '{path}'{then}"


@pytest.fixture
def alice(db: Db) -> int:
    return h.add_user(db, "Alice", "alice@example.com")


# --------------------------------------------------------------------------------------------
# In-process: options, dry run, errors


@pytest.fixture
def invoke(db_target: str) -> Iterator[Any]:
    from smallcrm.cli import context
    from smallcrm.cli.main import app

    runner = CliRunner()

    def run(*args: str) -> Any:
        context.reset()
        return runner.invoke(app, ["--db", db_target, "remind", *args])

    yield run
    context.reset()


def test_help_lists_every_option(invoke: Any) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for option in ("--dry-run", "--via", "--exec", "--ahead", "--owner"):
        assert option in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--via", "pigeon"], "'pigeon' is not one of stdout, email, desktop, exec"),
        (["--via", "exec"], "--via exec needs --exec CMD"),
        (["--via", "email", "--exec", "true"], "--exec goes with --via exec"),
    ],
)
def test_usage_errors_exit_2(invoke: Any, args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2 and message in result.output


def test_a_bad_duration_or_owner_is_one_error_line(invoke: Any, db: Db, alice: int) -> None:
    h.add_followups(db, owner_id=alice)
    for args, message in [
        (["--ahead", "soonish"], "error: cannot read 'soonish' as a duration"),
        (["--owner", "zed"], "error: no user 'zed'"),
    ]:
        result = invoke(*args)
        assert result.exit_code == 1 and result.output.startswith(message)
        assert len(result.output.splitlines()) == 1
    assert h.state(db).claimed == set() and h.state(db).reminded == set()


def test_dry_run_shows_what_would_be_sent_and_marks_nothing(
    invoke: Any, db: Db, alice: int
) -> None:
    ids = h.add_followups(db, 2, owner_id=alice, title="Call {i}")
    result = invoke("--dry-run", "--via", "email")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("would remind via email to alice@example.com: ")
    assert "Call 0" in lines[0] and "Call 1" in lines[1]
    assert lines[-1] == "dry run: 2 follow-ups due; nothing sent, nothing marked"
    assert h.state(db).reminded == set() and h.state(db).claimed == set()
    result = invoke()
    assert result.exit_code == 0 and len(result.output.splitlines()) == 2
    assert h.state(db).reminded == set(ids)
    assert invoke("--dry-run").output == "dry run: nothing due\n"


def test_owner_and_ahead(invoke: Any, db: Db, alice: int) -> None:
    bob = h.add_user(db, "Bob", "bob@example.com")
    soon = h.now_utc() + h.timedelta(minutes=10)
    [mine] = h.add_followups(db, owner_id=alice, due_at=soon, title="mine")
    h.add_followups(db, owner_id=bob, due_at=soon, title="his")
    assert invoke("--owner", "alice").output == ""
    result = invoke("--owner", "alice", "--ahead", "15m")
    assert result.exit_code == 0 and "mine" in result.output and "his" not in result.output
    assert h.state(db).reminded == {mine}


# --------------------------------------------------------------------------------------------
# The real command


def test_reminds_once_one_line_each(db: Db, db_target: str, alice: int) -> None:
    contact = h.add_contact(db, "Ada Lovelace")
    [first, second] = h.add_followups(db, 2, owner_id=alice, contact_id=contact, title="Call {i}")

    result = remind(db_target)

    assert result.returncode == 0 and result.stderr == b""
    lines = text(result.stdout).splitlines()
    assert len(lines) == 2
    assert f"follow-up {first}: Call 0" in lines[0] and "Ada Lovelace" in lines[0]
    assert f"follow-up {second}: Call 1" in lines[1] and "Alice" in lines[1]
    again = remind(db_target)
    assert again.returncode == 0 and again.stdout == b"" and again.stderr == b""


@pytest.mark.slow
@pytest.mark.parametrize(("processes", "via"), [(2, "stdout"), (3, "exec")])
def test_overlapping_runs_deliver_each_of_300_exactly_once(
    db: Db, db_target: str, alice: int, tmp_path: Path, processes: int, via: str
) -> None:
    ids = h.add_followups(db, 300, owner_id=alice)
    out = tmp_path / "delivered.jsonl"
    argv = [*smallcrm_argv(), "--db", db_target, "remind"]
    if via == "exec":
        argv += ["--exec", exec_into(out)]
    runs = [
        subprocess.Popen(
            argv,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    printed = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == 0 and stderr == b"", stderr
        printed.append(stdout)

    if via == "exec":
        delivered = Counter(item["id"] for item in h.exec_lines(out))
    else:
        delivered = h.delivered_ids(*printed)
    assert sorted(delivered) == ids and set(delivered.values()) == {1}
    assert h.state(db).reminded == set(ids) and h.state(db).claimed == set()


def test_exec_gets_json_on_stdin_and_the_shell_never_sees_the_title(
    db: Db, db_target: str, alice: int, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    title = f"$(touch {marker}) `touch {marker}`; touch {marker} && echo '\"' {TITLE}"
    [fid] = h.add_followups(db, owner_id=alice, title=title)
    out = tmp_path / "out.jsonl"

    result = remind(db_target, "--via", "exec", "--exec", exec_into(out))

    assert result.returncode == 0, result.stderr
    [item] = h.exec_lines(out)
    assert item["id"] == fid and item["title"] == title and item["owner"] == "Alice"
    assert item["owner_email"] == "alice@example.com" and item["status"] == "open"
    assert not marker.exists()


def test_a_failed_delivery_is_one_error_line_exit_1_and_retried(
    db: Db, db_target: str, alice: int, tmp_path: Path
) -> None:
    ids = h.add_followups(db, 3, owner_id=alice)
    out = tmp_path / "out.jsonl"
    failing = f'test "$SMALLCRM_FOLLOWUP_ID" != {ids[1]} || exit 3; {exec_into(out)}'

    result = remind(db_target, "--exec", failing)

    assert result.returncode == 1
    assert text(result.stderr) == f"error: exec: follow-up {ids[1]}: command exited with status 3\n"
    assert [item["id"] for item in h.exec_lines(out)] == [ids[0], ids[2]]
    assert h.state(db).reminded == {ids[0], ids[2]}
    retry = remind(db_target, "--exec", exec_into(out))
    assert retry.returncode == 0
    assert [item["id"] for item in h.exec_lines(out)] == [ids[0], ids[2], ids[1]]


def test_killed_mid_run_then_a_normal_run_delivers_everything(
    db: Db, db_target: str, alice: int, tmp_path: Path
) -> None:
    ids = h.add_followups(db, 5, owner_id=alice)
    out = tmp_path / "out.jsonl"
    slow = exec_into(out, then="; sleep 30")
    run = subprocess.Popen(
        [*smallcrm_argv(), "--db", db_target, "remind", "--exec", slow],
        env=child_env(SMALLCRM_REMIND_LEASE="1"),
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, killed as a whole like cron's job
    )
    try:
        assert h.wait_for(lambda: len(h.exec_lines(out)) >= 1, timeout=60)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    killed_at = time.monotonic()
    [in_flight] = [item["id"] for item in h.exec_lines(out)]
    assert h.state(db).reminded == set() and h.state(db).claimed == set(ids)

    time.sleep(max(0.0, 1.2 - (time.monotonic() - killed_at)))  # the 1 s lease runs out
    result = remind(db_target, "--exec", exec_into(out))

    assert result.returncode == 0, result.stderr
    delivered = Counter(item["id"] for item in h.exec_lines(out))
    assert sorted(delivered) == ids
    assert delivered[in_flight] == 2  # at worst the one in flight is sent again
    assert all(count == 1 for fid, count in delivered.items() if fid != in_flight)
    assert h.state(db).reminded == set(ids) and h.state(db).claimed == set()


@pytest.mark.parametrize("ascii_stdout", [False, True], ids=["LANG=C", "ascii-stdout"])
def test_runs_as_cron_runs_it(
    db: Db, db_target: str, alice: int, tmp_path: Path, ascii_stdout: bool
) -> None:
    """`env -i` with HOME, PATH and LANG=C only, stdin closed, no terminal."""
    [fid] = h.add_followups(db, owner_id=alice, title=TITLE)
    home = tmp_path / "cronhome"
    home.mkdir()
    env = ["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", "LANG=C"]
    if ascii_stdout:  # what Python does without C-locale coercion: an ASCII stdout
        env += ["PYTHONCOERCECLOCALE=0", "PYTHONUTF8=0"]
    argv = smallcrm_argv()
    if len(argv) > 1:  # `python -m smallcrm` from the source tree
        env.append(f"PYTHONPATH={ROOT}")
    closed_stdin = ["sh", "-c", 'exec "$@" <&-', "sh"]

    result = subprocess.run(
        [*env, *closed_stdin, *argv, "--db", db_target, "remind"],
        capture_output=True,
        timeout=120,
        start_new_session=True,  # no controlling terminal
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    [line] = text(result.stdout).splitlines()
    assert f"follow-up {fid}: {TITLE}" in line
    assert h.state(db).reminded == {fid}


# --------------------------------------------------------------------------------------------
# Email through a real SMTP server


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    server = h.SmtpServer().start()
    yield server
    server.stop()


def test_email_reaches_each_owner_and_no_password_is_printed(
    db: Db, db_target: str, alice: int, smtp_server: Any
) -> None:
    bob = h.add_user(db, "Bob", "bob@example.com")
    h.add_followups(db, 2, owner_id=alice, title=TITLE + " {i}")
    h.add_followups(db, owner_id=bob, title="Send the offer")
    env = child_env(**smtp_server.env(), SMALLCRM_SMTP_USER="crm", SMALLCRM_SMTP_PASSWORD=PASSWORD)

    result = remind(db_target, "--via", "email", env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout == b"" and result.stderr == b""
    inbox = smtp_server.inbox.by_recipient()
    assert set(inbox) == {"alice@example.com", "bob@example.com"}
    to_alice = inbox["alice@example.com"].message
    assert to_alice["Subject"].startswith("smallcrm: 2 follow-ups due")
    assert to_alice["From"].addresses[0].addr_spec == "crm@example.com"
    assert f"{TITLE} 0" in to_alice.get_content() and f"{TITLE} 1" in to_alice.get_content()
    assert "Send the offer" in inbox["bob@example.com"].message.get_content()
    for message in smtp_server.inbox.messages:
        assert PASSWORD.encode() not in message.raw


def test_smtp_server_down_exit_1_nothing_marked_then_delivered(
    db: Db, db_target: str, alice: int
) -> None:
    server = h.SmtpServer()  # not listening yet
    env = child_env(**server.env(), SMALLCRM_SMTP_USER="crm", SMALLCRM_SMTP_PASSWORD=PASSWORD)
    ids = h.add_followups(db, 2, owner_id=alice)

    down = remind(db_target, "--via", "email", env=env)

    assert down.returncode == 1 and down.stdout == b""
    [error] = text(down.stderr).splitlines()
    assert error.startswith("error: email: to alice@example.com")
    assert f"cannot connect to SMTP server 127.0.0.1:{server.port}" in error
    for secret in h.secret_forms(PASSWORD, "crm"):
        assert secret not in error
    assert h.state(db).reminded == set() and h.state(db).claimed == set()

    server.start()
    try:
        up = remind(db_target, "--via", "email", env=env)
    finally:
        server.stop()
    assert up.returncode == 0, up.stderr
    [received] = server.inbox.messages
    assert received.rcpt_tos == ["alice@example.com"]
    assert h.state(db).reminded == set(ids)


def test_a_config_file_holding_the_password_must_be_private(
    db: Db, db_target: str, alice: int, smtp_server: Any, isolated_env: Path
) -> None:
    config = isolated_env / "config.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nfrom = "crm@example.com"\n'
        f'user = "crm"\npassword = "{PASSWORD}"\n'
    )
    config.chmod(0o644)
    h.add_followups(db, owner_id=alice)

    refused = remind(db_target, "--via", "email")

    assert refused.returncode == 1
    assert "other users can read it" in text(refused.stderr)
    assert PASSWORD not in text(refused.stdout + refused.stderr)
    assert smtp_server.inbox.messages == [] and h.state(db).claimed == set()
    config.chmod(0o600)
    accepted = remind(db_target, "--via", "email")
    assert accepted.returncode == 0, accepted.stderr
    assert len(smtp_server.inbox.messages) == 1


def test_exec_output_json_matches_followup_fields(
    db: Db, db_target: str, alice: int, tmp_path: Path
) -> None:
    contact = h.add_contact(db, "Ada Lovelace")
    [fid] = h.add_followups(db, owner_id=alice, contact_id=contact)
    out = tmp_path / "out.jsonl"
    assert remind(db_target, "--exec", exec_into(out)).returncode == 0
    [item] = h.exec_lines(out)
    for field in ("id", "title", "due_at", "status", "contact_id", "contact", "company_id",
                  "company", "lead_id", "lead", "owner", "owner_email", "reminded_at",
                  "done_at"):  # fmt: skip
        assert field in item
    assert item["id"] == fid and item["contact"] == "Ada Lovelace"
    assert json.loads(json.dumps(item)) == item
