"""Reminders: deliver every due follow-up once, by stdout, email, a desktop notice or a command.

What cron runs every few minutes, so it must neither double-send nor drop. A run:

1. **claims** the due follow-ups with one conditional UPDATE in its own short write transaction:
   every open, not yet reminded follow-up due by the cutoff that no live run holds gets this
   run's token and a lease (`claimed_until`). Overlapping runs cannot claim the same row: on
   SQLite the UPDATE runs under `BEGIN IMMEDIATE`; on PostgreSQL a concurrent UPDATE waits for
   the row lock and re-checks the WHERE clause against the committed row. Nothing is read first.
2. **delivers** them, one unit at a time (a line, a command, a notification, one email per
   owner), while a heartbeat thread keeps extending the lease of what it still holds.
3. **marks** each delivered unit reminded (`WHERE claim_token = token`) right after it went
   out, and releases a failed unit so the next run retries it.

A run that is killed stops renewing; its leases expire (`SMALLCRM_REMIND_LEASE`, default
10 minutes) and the next run delivers what it had not marked. At worst the one item in flight
at the moment of the kill is delivered again; nothing is ever lost.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import or_, update
from sqlmodel import col, select

from smallcrm import followups, records, settings, users
from smallcrm.errors import DeliveryFailed, Invalid, NotFound
from smallcrm.store import Db
from smallcrm.store.tables import Contact, FollowUp, now_utc
from smallcrm.textsafe import visible
from smallcrm.values import local_zone, parse_duration

__all__ = [
    "CHANNELS",
    "Failure",
    "Outcome",
    "claim",
    "due",
    "followup_json",
    "lease_length",
    "line",
    "mark_reminded",
    "release",
    "run",
]

CHANNELS = ("stdout", "email", "desktop", "exec")
DEFAULT_LEASE = timedelta(minutes=10)
DEFAULT_EXEC_TIMEOUT = timedelta(minutes=5)
NOTIFY_TIMEOUT_S = 15
#: Never passed on to an --exec command.
_SECRET_ENV = ("SMALLCRM_SMTP_PASSWORD",)


@dataclass(frozen=True)
class Failure:
    """A delivery that did not happen; its follow-ups stay due for the next run."""

    channel: str
    reason: str
    followup_ids: tuple[int, ...] = ()

    def __str__(self) -> str:
        return f"{self.channel}: {self.reason}"


@dataclass(frozen=True)
class Planned:
    """What a dry run would send: the follow-up, and to whom (email) or how."""

    followup: records.FollowUp
    target: str | None
    do_not_contact: bool = False


@dataclass(frozen=True)
class Outcome:
    channel: str
    delivered: list[records.FollowUp]
    failures: list[Failure]
    planned: list[Planned]
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures


# --------------------------------------------------------------------------------------------
# Settings


def _seconds(key: str, default: timedelta) -> timedelta:
    """A length of time from a setting: a bare number is seconds, else `15m`, `2h`..."""
    raw = settings.setting(key)
    if raw is None or str(raw).strip() == "":
        return default
    text = str(raw).strip()
    try:
        value = timedelta(seconds=float(text))
    except (ValueError, OverflowError):
        value = parse_duration(text)
    if value <= timedelta(0):
        raise Invalid(f"{key} must be longer than zero")
    return value


def lease_length() -> timedelta:
    """How long a claim lives without renewal: `remind.lease` / SMALLCRM_REMIND_LEASE."""
    return _seconds("remind.lease", DEFAULT_LEASE)


def exec_timeout() -> timedelta:
    """How long an --exec command may run: `remind.exec_timeout`."""
    return _seconds("remind.exec_timeout", DEFAULT_EXEC_TIMEOUT)


# --------------------------------------------------------------------------------------------
# Presenting a follow-up


def _local(moment: datetime) -> datetime:
    return moment.astimezone(local_zone())


DO_NOT_CONTACT_NOTE = "the contact asked not to be contacted"


def line(item: records.FollowUp, *, do_not_contact: bool = False) -> str:
    """One line for a person: local due time, id, title, who it concerns, owner."""
    due_at = _local(item.due_at).strftime("%Y-%m-%d %H:%M")
    about = [
        f"{label}: {visible(value)}"
        for label, value in (
            ("contact", item.contact),
            ("company", item.company),
            ("lead", item.lead),
            ("owner", item.owner),
        )
        if value
    ]
    if do_not_contact:
        about.append(DO_NOT_CONTACT_NOTE)
    context = f" ({', '.join(about)})" if about else ""
    return f"{due_at}  follow-up {item.id}: {visible(item.title)}{context}"


def followup_json(item: records.FollowUp, *, do_not_contact: bool = False) -> dict[str, Any]:
    """The follow-up as the CLI's JSON shows it (every field, times ISO 8601 with offset),
    plus `do_not_contact`: whether its contact asked not to be contacted."""
    result: dict[str, Any] = {}
    for spec in dataclasses.fields(item):
        value = getattr(item, spec.name)
        result[spec.name] = _local(value).isoformat() if isinstance(value, datetime) else value
    result["do_not_contact"] = do_not_contact
    return result


# --------------------------------------------------------------------------------------------
# Claims: the only statements that change a follow-up's reminder state


#: Claims and marks are plain Core UPDATEs on the session's connection: bookkeeping, not edits
#: (no version bump, nothing for the change history), and cheap enough to run once per reminder.
FOLLOWUP = FollowUp.__table__  # type: ignore[attr-defined]


def _execute(session: Any, statement: Any) -> int:
    return session.connection().execute(statement).rowcount


def _due_conditions(cutoff: datetime, now: datetime, owner_ids: Sequence[int] | None) -> list:
    conditions = [
        FollowUp.status == "open",
        col(FollowUp.reminded_at).is_(None),
        FollowUp.due_at <= cutoff,
        or_(col(FollowUp.claimed_until).is_(None), col(FollowUp.claimed_until) < now),
    ]
    if owner_ids is not None:
        conditions.append(col(FollowUp.owner_id).in_(list(owner_ids)))
    return conditions


def claim(
    db: Db,
    *,
    cutoff: datetime,
    now: datetime | None = None,
    lease: timedelta | None = None,
    owner_ids: Sequence[int] | None = None,
) -> tuple[str, list[records.FollowUp]]:
    """Claim every deliverable follow-up due by `cutoff` for a new token; returns the token and
    the claimed follow-ups (soonest first). One conditional UPDATE, one short transaction."""
    now = now or now_utc()
    lease = lease or lease_length()
    token = uuid.uuid4().hex
    with db.write() as session:
        _execute(
            session,
            update(FOLLOWUP)
            .where(*_due_conditions(cutoff, now, owner_ids))
            .values(claim_token=token, claimed_until=now + lease),
        )
        rows = session.exec(
            followups.base_query()
            .where(FollowUp.claim_token == token)
            .order_by(FollowUp.due_at, FollowUp.id)
        ).all()
        return token, followups.to_records(rows, now)


def renew(db: Db, token: str, *, lease: timedelta | None = None) -> int:
    """Extend the lease of everything `token` still holds; returns how many rows."""
    lease = lease or lease_length()
    with db.write() as session:
        return _execute(
            session,
            update(FOLLOWUP)
            .where(FOLLOWUP.c.claim_token == token)
            .values(claimed_until=now_utc() + lease),
        )


def mark_reminded(db: Db, token: str, ids: Sequence[int], *, cutoff: datetime | None = None) -> int:
    """Mark delivered follow-ups reminded and drop their claim; only rows this token holds
    (and, given `cutoff`, still due by it: one snoozed meanwhile is reminded again later)."""
    if not ids:
        return 0
    conditions = [FollowUp.claim_token == token, col(FollowUp.id).in_(list(ids))]
    if cutoff is not None:
        conditions.append(FollowUp.due_at <= cutoff)
    with db.write() as session:
        return _execute(
            session,
            update(FOLLOWUP)
            .where(*conditions)
            .values(reminded_at=now_utc(), claim_token=None, claimed_until=None),
        )


def release(db: Db, token: str, ids: Sequence[int] | None = None) -> int:
    """Give claims back (all of the token's, or just `ids`) so the next run retries them."""
    conditions = [FollowUp.claim_token == token]
    if ids is not None:
        if not ids:
            return 0
        conditions.append(col(FollowUp.id).in_(list(ids)))
    with db.write() as session:
        return _execute(
            session,
            update(FOLLOWUP).where(*conditions).values(claim_token=None, claimed_until=None),
        )


def due(
    db: Db,
    *,
    cutoff: datetime,
    now: datetime | None = None,
    owner_ids: Sequence[int] | None = None,
) -> list[records.FollowUp]:
    """What a run would claim now, read only (for --dry-run)."""
    now = now or now_utc()
    with db.read() as session:
        rows = session.exec(
            followups.base_query()
            .where(*_due_conditions(cutoff, now, owner_ids))
            .order_by(FollowUp.due_at, FollowUp.id)
        ).all()
        return followups.to_records(rows, now)


def _anything_due(
    db: Db, *, cutoff: datetime, now: datetime, owner_ids: Sequence[int] | None
) -> bool:
    """A cheap read first, so an idle run (most cron runs) never takes the write lock. Only a
    shortcut: the claim's UPDATE decides on its own what is still deliverable."""
    with db.read() as session:
        found = session.exec(
            select(FollowUp.id).where(*_due_conditions(cutoff, now, owner_ids)).limit(1)
        ).first()
        return found is not None


def _flagged(db: Db, items: Sequence[records.FollowUp]) -> frozenset[int]:
    """The follow-ups among `items` about a contact flagged do-not-contact. They are still
    reminded (the reminder goes to the rep, not to the customer), with the flag shown, so the
    rep sees why not to call and can cancel them."""
    contact_ids = {item.contact_id for item in items if item.contact_id is not None}
    if not contact_ids:
        return frozenset()
    with db.read() as session:
        blocked = set(
            session.exec(
                select(Contact.id).where(
                    col(Contact.id).in_(sorted(contact_ids)), col(Contact.do_not_contact)
                )
            ).all()
        )
    return frozenset(item.id for item in items if item.contact_id in blocked)


def _owner_ids(db: Db, owners: Sequence[str]) -> list[int] | None:
    if not owners:
        return None
    ids = []
    with db.read() as session:
        for who in owners:
            row = users.find(session, who)
            if row is None:
                raise NotFound(f"no user '{who}' (see `smallcrm user list`)")
            ids.append(row.id)
    return ids


class _Heartbeat:
    """Keeps a run's lease alive while it delivers, so a slow run never loses its claims."""

    def __init__(self, db: Db, token: str, lease: timedelta) -> None:
        self._db, self._token, self._lease = db, token, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="smallcrm-lease", daemon=True)

    def _beat(self) -> None:
        interval = max(self._lease.total_seconds() / 3, 0.05)
        while not self._stop.wait(interval):
            try:
                renew(self._db, self._token, lease=self._lease)
            except Exception:  # a busy database: the next beat tries again
                continue

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------------------------
# Channels


class _ChannelDown(DeliveryFailed):
    """Nothing more can go through this channel in this run (stdout closed): stop trying."""


class _Channel:
    name = ""
    #: Follow-ups (ids) whose contact is flagged do-not-contact: reminded, with that said.
    flagged: frozenset[int] = frozenset()

    def check(self) -> None:
        """Refuse before anything is claimed when this channel cannot work at all."""

    def units(self, items: list[records.FollowUp]) -> list[list[records.FollowUp]]:
        return [[item] for item in items]

    def target(self, item: records.FollowUp) -> str | None:
        return None

    def send(self, unit: list[records.FollowUp]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _Stdout(_Channel):
    name = "stdout"

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def send(self, unit: list[records.FollowUp]) -> None:
        try:
            for item in unit:
                self.out.write(line(item, do_not_contact=item.id in self.flagged) + "\n")
            self.out.flush()
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise _ChannelDown(f"cannot write ({reason})") from None


def _ids(unit: Sequence[records.FollowUp]) -> str:
    return ", ".join(str(item.id) for item in unit)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def email_subject(unit: Sequence[records.FollowUp], now: datetime | None = None) -> str:
    """Built from counts only: no stored text ever reaches a mail header."""
    subject = f"smallcrm: {_plural(len(unit), 'follow-up')} due"
    overdue = sum(1 for item in unit if item.overdue)
    return f"{subject} ({overdue} overdue)" if overdue else subject


def email_body(unit: Sequence[records.FollowUp], flagged: frozenset[int] = frozenset()) -> str:
    name = visible(unit[0].owner) if unit[0].owner else "there"
    count = len(unit)
    lines = [
        f"Hello {name},",
        "",
        f"{_plural(count, 'follow-up')} {'is' if count == 1 else 'are'} due:",
        "",
    ]
    for item in unit:
        due_at = _local(item.due_at).strftime("%a %Y-%m-%d %H:%M")
        late = " (overdue)" if item.overdue else ""
        lines.append(f"- {visible(item.title)}")
        lines.append(f"  due {due_at}{late}, follow-up {item.id}")
        about = [
            f"{label}: {visible(value)}"
            for label, value in (
                ("contact", item.contact),
                ("company", item.company),
                ("lead", item.lead),
            )
            if value
        ]
        if about:
            lines.append(f"  {', '.join(about)}")
        if item.id in flagged:
            lines.append(f"  Note: {DO_NOT_CONTACT_NOTE}.")
        lines.append("")
    lines += [
        "Mark one done:  smallcrm followup done ID",
        "Snooze it:      smallcrm followup snooze ID --until WHEN",
        "",
        "-- ",
        "sent by smallcrm remind",
        "",
    ]
    return "\n".join(lines)


class _Email(_Channel):
    name = "email"

    def __init__(self) -> None:
        self._mailer: Any = None

    def check(self) -> None:
        from smallcrm import mailer

        try:
            config = mailer.smtp_settings()
        except Invalid as error:
            raise DeliveryFailed(str(error)) from None
        self._mailer = mailer.Mailer(config)

    def units(self, items: list[records.FollowUp]) -> list[list[records.FollowUp]]:
        by_owner: dict[int | None, list[records.FollowUp]] = {}
        for item in items:
            by_owner.setdefault(item.owner_id, []).append(item)
        return list(by_owner.values())

    def target(self, item: records.FollowUp) -> str | None:
        if item.owner_email:
            return item.owner_email
        who = f"'{visible(item.owner)}'" if item.owner else "nobody"
        return f"{who}, who has no email address"

    def send(self, unit: list[records.FollowUp]) -> None:
        from smallcrm import mailer

        first = unit[0]
        if first.owner_id is None:
            raise DeliveryFailed(f"follow-ups {_ids(unit)} have no owner to email")
        if not first.owner_email:
            raise DeliveryFailed(
                f"user '{visible(first.owner)}' has no email address, "
                f"so follow-ups {_ids(unit)} stay due"
            )
        msg = mailer.message(
            sender=self._mailer.config.sender,
            to_name=first.owner,
            to_addr=first.owner_email,
            subject=email_subject(unit),
            body=email_body(unit, self.flagged),
        )
        try:
            self._mailer.send(msg)
        except DeliveryFailed as error:
            raise DeliveryFailed(
                f"to {visible(first.owner_email)} (follow-ups {_ids(unit)}): {error}"
            ) from None

    def close(self) -> None:
        if self._mailer is not None:
            self._mailer.close()


def _markup_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Desktop(_Channel):
    name = "desktop"

    def __init__(self) -> None:
        self._program: str | None = None

    def check(self) -> None:
        self._program = shutil.which("notify-send")
        if self._program is None:
            raise DeliveryFailed(
                "notify-send not found, so no notification can be shown here "
                "(install libnotify, e.g. the libnotify-bin package, or use --via stdout, "
                "email or exec)"
            )

    def send(self, unit: list[records.FollowUp]) -> None:
        item = unit[0]
        due_at = _local(item.due_at).strftime("%Y-%m-%d %H:%M")
        about = ", ".join(visible(v) for v in (item.contact, item.company, item.lead) if v)
        body = f"{visible(item.title)}\n{due_at}" + (f" · {about}" if about else "")
        if item.id in self.flagged:
            body += f"\n({DO_NOT_CONTACT_NOTE})"
        argv = [
            self._program or "notify-send",
            "--app-name=smallcrm",
            "--",
            f"Follow-up {item.id} due",
            _markup_escaped(body),  # servers may read the body as simple markup
        ]
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=NOTIFY_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DeliveryFailed(
                f"follow-up {item.id}: notify-send did not finish in {NOTIFY_TIMEOUT_S} s"
            ) from None
        except OSError as error:
            raise DeliveryFailed(f"follow-up {item.id}: cannot run notify-send: {error}") from None
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = f": {visible(said[0])}" if said else ""
            raise DeliveryFailed(
                f"follow-up {item.id}: notify-send exited with status {done.returncode}{detail} "
                "(is there a desktop session? cron has no DISPLAY or DBUS_SESSION_BUS_ADDRESS)"
            )


class _Exec(_Channel):
    name = "exec"

    def __init__(self, command: str, timeout: timedelta) -> None:
        self.command = command
        self.timeout = timeout

    def check(self) -> None:
        if not self.command.strip():
            raise DeliveryFailed("--exec needs a command")

    def send(self, unit: list[records.FollowUp]) -> None:
        import signal

        item = unit[0]
        record = followup_json(item, do_not_contact=item.id in self.flagged)
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        env = {k: v for k, v in os.environ.items() if k not in _SECRET_ENV}
        env["SMALLCRM_FOLLOWUP_ID"] = str(item.id)
        for stream in (sys.stdout, sys.stderr):
            try:  # the command's output follows ours in order
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        seconds = self.timeout.total_seconds()
        timed_out = threading.Event()
        try:
            # The title travels only as JSON on stdin: the shell never sees it.
            proc = subprocess.Popen(self.command, shell=True, stdin=subprocess.PIPE, env=env)
        except OSError as error:
            raise DeliveryFailed(f"follow-up {item.id}: cannot run command: {error}") from None

        def stop() -> None:
            timed_out.set()
            proc.kill()

        # A timer rather than wait(timeout=), which polls: a blocking wait returns at once.
        timer = threading.Timer(seconds, stop)
        timer.start()
        try:
            proc.communicate(data)
        finally:
            timer.cancel()
        status = proc.returncode
        if timed_out.is_set() and status == -signal.SIGKILL:
            raise DeliveryFailed(
                f"follow-up {item.id}: command did not finish within {seconds:g} s"
            )
        if status < 0:
            try:
                name = signal.Signals(-status).name
            except ValueError:
                name = f"signal {-status}"
            raise DeliveryFailed(f"follow-up {item.id}: command was killed by {name}")
        if status != 0:
            raise DeliveryFailed(f"follow-up {item.id}: command exited with status {status}")


def _channel(via: str, command: str | None, out: TextIO) -> _Channel:
    if via == "stdout":
        return _Stdout(out)
    if via == "email":
        return _Email()
    if via == "desktop":
        return _Desktop()
    if via == "exec":
        if not command or not command.strip():
            raise Invalid("--via exec needs --exec CMD")
        return _Exec(command, exec_timeout())
    raise Invalid(f"unknown channel '{visible(via)}'; expected one of: {', '.join(CHANNELS)}")


# --------------------------------------------------------------------------------------------
# The run


def run(
    db: Db,
    *,
    via: str = "stdout",
    command: str | None = None,
    ahead: str | timedelta | None = None,
    owners: Sequence[str] = (),
    dry_run: bool = False,
    out: TextIO | None = None,
    now: datetime | None = None,
    lease: timedelta | None = None,
) -> Outcome:
    """Deliver every open follow-up due by now (+ `ahead`) that was not reminded yet.

    Raises for a mistake that stops the whole run before anything is claimed (unknown channel
    or owner, bad duration, an email setup that cannot work). Otherwise returns an Outcome:
    delivered follow-ups are marked reminded; each failure is listed and its follow-ups stay
    due for the next run. One failing delivery never stops the others.
    """
    via = (via or "stdout").strip().lower()
    if isinstance(ahead, str):
        ahead = parse_duration(ahead) if ahead.strip() else None
    now = (now or now_utc()).astimezone(UTC)
    cutoff = now + (ahead or timedelta(0))
    channel = _channel(via, command, out if out is not None else sys.stdout)
    lease = lease or lease_length()
    owner_ids = _owner_ids(db, owners)

    if dry_run:  # a read: nothing claimed, nothing marked
        items = due(db, cutoff=cutoff, now=now, owner_ids=owner_ids)
        flagged = _flagged(db, items)
        planned = [Planned(item, channel.target(item), item.id in flagged) for item in items]
        return Outcome(via, [], [], planned, dry_run=True)

    try:
        channel.check()
    except DeliveryFailed as error:
        return Outcome(via, [], [Failure(via, str(error))], [])

    if not _anything_due(db, cutoff=cutoff, now=now, owner_ids=owner_ids):
        channel.close()
        return Outcome(via, [], [], [])
    delivered: list[records.FollowUp] = []
    failures: list[Failure] = []
    token, items = claim(db, cutoff=cutoff, now=now, lease=lease, owner_ids=owner_ids)
    settled = 0  # claims marked or released one by one
    try:
        with _Heartbeat(db, token, lease):
            channel.flagged = _flagged(db, items)
            units = channel.units(items)
            for index, unit in enumerate(units):
                ids = [item.id for item in unit]
                try:
                    channel.send(unit)
                except _ChannelDown as error:  # one failure for everything left
                    rest = [item for later in units[index:] for item in later]
                    verb = "stays" if len(rest) == 1 else "stay"
                    reason = f"{error}; {_plural(len(rest), 'follow-up')} {verb} due"
                    failures.append(Failure(via, reason, tuple(item.id for item in rest)))
                    break
                except Exception as error:  # one bad follow-up never stops the others
                    if isinstance(error, DeliveryFailed):
                        reason = str(error)
                    else:
                        reason = f"follow-ups {_ids(unit)}: {type(error).__name__}: {error}"
                    failures.append(Failure(via, visible(reason), tuple(ids)))
                    settled += _quietly(release, db, token, ids)
                    continue
                try:
                    settled += mark_reminded(db, token, ids, cutoff=cutoff)
                except Exception as error:
                    failures.append(
                        Failure(
                            via,
                            f"follow-ups {_ids(unit)} were delivered but could not be marked "
                            f"reminded ({error}); they may be delivered again",
                            tuple(ids),
                        )
                    )
                    continue
                delivered.extend(unit)
    finally:
        channel.close()
        if settled < len(items):  # interrupted, or a follow-up was snoozed meanwhile
            _quietly(release, db, token)
    return Outcome(via, delivered, failures, [])


def _quietly(action: Any, *args: Any) -> int:
    """Give claims back; if the database refuses, the lease expires on its own."""
    try:
        return action(*args)
    except Exception:
        return 0
