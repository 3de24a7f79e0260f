"""The big database the TUI benchmarks run on, built once with bulk SQL and cached.

    .venv/bin/python benchmarks/tui_data.py [--force]

1,000,000 contacts in 20,000 companies, 10,000 open leads, 200,000 activities (5,000 of them
with one customer, "Busy Customer", contact 1) and 5,000 open follow-ups. The schema comes from
the migrations (open_db); the rows go in through sqlite3 `executemany` in one transaction, and
the search index is rebuilt once at the end. Takes a few minutes; the file lives in
benchmarks/data/ (git-ignored) and is reused while it exists.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

DATA = Path(__file__).parent / "data" / "tui_big.db"
CONTACTS = 1_000_000
COMPANIES = 20_000
OPEN_LEADS = 10_000
ACTIVITIES = 200_000
BUSY_ACTIVITIES = 5_000
FOLLOWUPS = 5_000
BUSY_CONTACT = 1
#: Bump when the data changes shape, so an old cache is rebuilt.
VERSION = "1"

SYLLABLES = (
    "an ber cal dor el fen gar hol is jan kel lor mar nor ol per quin ros sar tal ul ven "
    "wal xan yor zel bri cas dun fal gil hen"
).split()
FIRST = (
    "Ada Alan Grace Linus Margaret Ken Barbara Dennis Frances Edsger Radia John Hedy Tim "
    "Katherine Guido Sophie Donald Jean Niklaus Anita Bjarne Lucia Yukihiro Mary Rasmus Carla "
    "James Ingrid Omar Fatima Mateo Chloe Noah Aisha Lukas Elena Hiro Zoe Ravi Nadia Pablo Emma"
).split()
KINDS = ("call", "email", "meeting", "note", "visit", "sms")
SUMMARIES = (
    "Intro call", "Discussed pricing", "Sent the proposal", "Quarterly review",
    "Budget approved", "Left a voicemail", "Demo with the team", "Contract negotiation",
)  # fmt: skip


def _stamp(moment: datetime) -> str:
    """How SQLAlchemy stores an aware datetime on SQLite: naive UTC text."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _last_names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        parts = rng.randint(2, 3)
        names.add("".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize())
    return sorted(names)


def build(path: Path = DATA, *, seed: int = 7, force: bool = False) -> Path:
    """Create the database at `path` unless a complete one is there already."""
    marker = path.with_suffix(".done")
    if path.exists() and marker.exists() and marker.read_text() == VERSION and not force:
        return path
    from smallcrm.store import open_db, search_index

    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    marker.unlink(missing_ok=True)
    open_db(str(path)).dispose()  # the schema, by the migrations

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    conn.execute("BEGIN")
    users = [f"Rep {i:02d}" for i in range(1, 21)]
    conn.executemany(
        "INSERT INTO user_account (login, name, email, created_at) VALUES (?, ?, ?, ?)",
        [(u.lower(), u, f"rep{i}@bench.example", _stamp(now)) for i, u in enumerate(users, 1)],
    )
    user_ids = [row[0] for row in conn.execute("SELECT id FROM user_account")]
    lasts = _last_names(rng, 5_000)
    company_rows = []
    for number in range(1, COMPANIES + 1):
        name = f"{rng.choice(lasts)} {rng.choice(('Labs', 'Foods', 'Freight', 'Systems'))} {number}"
        company_rows.append(
            (name, f"c{number}.example", rng.choice(user_ids), 1, _stamp(now), _stamp(now))
        )
    conn.executemany(
        "INSERT INTO company (name, domain, owner_id, version, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        company_rows,
    )
    print(f"companies: {time.perf_counter() - started:.1f}s", file=sys.stderr)

    def contact_rows() -> Iterator[tuple[object, ...]]:
        yield ("Busy Customer", "busy@bench.example", "+14155550000", 1, user_ids[0],
               "client", 1, _stamp(now), _stamp(now))  # fmt: skip
        for number in range(2, CONTACTS + 1):
            first, last = rng.choice(FIRST), rng.choice(lasts)
            created = _stamp(now - timedelta(minutes=number))
            yield (
                f"{first} {last}",
                f"{first}.{last}.{number}@c{number % COMPANIES + 1}.example".lower(),
                f"+1415{number:07d}",
                number % COMPANIES + 1,
                rng.choice(user_ids),
                "prospect",
                1,
                created,
                created,
            )

    conn.executemany(
        "INSERT INTO contact (name, email, phone, company_id, owner_id, stage, version, "
        "created_at, updated_at, consent, do_not_contact) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
        contact_rows(),
    )
    print(f"contacts: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    pipeline_id, *_ = conn.execute("SELECT id FROM pipeline ORDER BY id LIMIT 1").fetchone()
    stages = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM stage WHERE pipeline_id = ? ORDER BY position", (pipeline_id,)
        )
    ]
    lead_rows = []
    for number in range(1, OPEN_LEADS + 1):
        contact = BUSY_CONTACT if number <= 3 else rng.randint(2, CONTACTS)
        entered = now - timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 23))
        lead_rows.append(
            (
                f"Deal {number}",
                contact,
                contact % COMPANIES + 1,
                pipeline_id,
                rng.choice(stages),
                "open",
                rng.randrange(1_000, 80_000) * 100,
                "USD",
                rng.choice(user_ids),
                1,
                _stamp(entered),
                _stamp(entered),
                _stamp(entered),
            )  # fmt: skip
        )
    conn.executemany(
        "INSERT INTO lead (title, contact_id, company_id, pipeline_id, stage_id, status, "
        "value_minor, currency, owner_id, version, stage_entered_at, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        lead_rows,
    )
    conn.execute(
        "INSERT INTO stage_change (lead_id, to_stage_id, event, changed_at, user_id) "
        "SELECT id, stage_id, 'created', created_at, owner_id FROM lead"
    )

    def activity_rows() -> Iterator[tuple[object, ...]]:
        for number in range(ACTIVITIES):
            contact = BUSY_CONTACT if number < BUSY_ACTIVITIES else rng.randint(2, CONTACTS)
            when = _stamp(now - timedelta(minutes=rng.randint(1, 60 * 24 * 700)))
            yield (rng.choice(KINDS), rng.choice(SUMMARIES), when, contact, rng.choice(user_ids),
                   when)  # fmt: skip

    conn.executemany(
        "INSERT INTO activity (kind, summary, occurred_at, contact_id, user_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        activity_rows(),
    )
    followup_rows = []
    for number in range(FOLLOWUPS):
        due = _stamp(now + timedelta(hours=rng.randint(-24 * 30, 24 * 30)))
        contact = BUSY_CONTACT if number < 5 else rng.randint(2, CONTACTS)
        followup_rows.append(
            (f"Follow up {number}", due, contact, rng.choice(user_ids), "open", 1, due, due)
        )
    conn.executemany(
        "INSERT INTO followup (title, due_at, contact_id, owner_id, status, version, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        followup_rows,
    )
    conn.execute("COMMIT")
    conn.close()
    print(f"rows: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    db = open_db(str(path))
    try:
        with db.write() as session:
            search_index.rebuild(session)
        with db.engine.connect() as conn2:
            conn2.exec_driver_sql("ANALYZE")
    finally:
        db.dispose()
    marker.write_text(VERSION)
    print(f"search index: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("path", nargs="?", type=Path, default=DATA)
    args = parser.parse_args()
    print(build(args.path, force=args.force))


if __name__ == "__main__":
    main()
