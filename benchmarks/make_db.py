"""Build a benchmark database fast: 10,000 contacts with companies, leads and follow-ups.

    .venv/bin/python benchmarks/make_db.py [PATH] [--contacts N]

Rows go in with one bulk INSERT per table inside a single write transaction, and the search
index is rebuilt once at the end (about two seconds for 10,000 contacts here), instead of
10,000 service calls. The file is reused by benchmarks/startup.py.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEFAULT_PATH = Path(__file__).parent / "data" / "bench.db"

FIRST = "Ada Alan Grace Linus Guido Barbara Edsger Margaret Dennis Ken Bjarne Radia Hedy".split()
LAST = "Lovelace Turing Hopper Torvalds Rossum Liskov Dijkstra Hamilton Ritchie Thompson".split()
WORDS = "Acme Globex Initech Umbrella Stark Wayne Wonka Hooli Vandelay Soylent Tyrell".split()


def build(path: Path, contacts: int = 10_000, seed: int = 7) -> Path:
    from sqlalchemy import insert, select

    from smallcrm.store import open_db, search_index
    from smallcrm.store.tables import Company, Contact, FollowUp, Lead, Stage, User

    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    db = open_db(str(path))
    try:
        with db.write() as session:
            session.execute(
                insert(User),
                [
                    {
                        "login": name.lower(),
                        "name": name,
                        "email": f"{name.lower()}@example.com",
                        "created_at": now,
                    }
                    for name in ("bench", "alex", "sam", "priya")
                ],
            )
            user_ids = list(session.scalars(select(User.id)))
            stages = session.execute(
                select(Stage.id, Stage.pipeline_id).order_by(Stage.position)
            ).all()
            stage_ids = [s.id for s in stages]
            pipeline_id = stages[0].pipeline_id
            company_count = max(contacts // 10, 1)
            session.execute(
                insert(Company),
                [
                    {
                        "name": f"{rng.choice(WORDS)} {i}",
                        "domain": f"company{i}.example.com",
                        "city": "Springfield",
                        "owner_id": rng.choice(user_ids),
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(1, company_count + 1)
                ],
            )
            session.execute(
                insert(Contact),
                [
                    {
                        "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}",
                        "email": f"person{i}@example.com",
                        "phone": f"+1415555{i % 10000:04d}",
                        "title": "Buyer",
                        "company_id": rng.randint(1, company_count),
                        "stage": "prospect",
                        "owner_id": rng.choice(user_ids),
                        "consent": False,
                        "do_not_contact": False,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(1, contacts + 1)
                ],
            )
            session.execute(
                insert(Lead),
                [
                    {
                        "title": f"Deal {i}",
                        "contact_id": rng.randint(1, contacts),
                        "company_id": rng.randint(1, company_count),
                        "pipeline_id": pipeline_id,
                        "stage_id": rng.choice(stage_ids),
                        "status": "open",
                        "value_minor": rng.randint(1, 500) * 10_000,
                        "currency": "USD",
                        "owner_id": rng.choice(user_ids),
                        "version": 1,
                        "stage_entered_at": now - timedelta(days=rng.randint(0, 40)),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(1, contacts // 5 + 1)
                ],
            )
            session.execute(
                insert(FollowUp),
                [
                    {
                        "title": f"Call back {i}",
                        "due_at": now + timedelta(hours=rng.randint(-24 * 14, 24 * 30)),
                        "contact_id": rng.randint(1, contacts),
                        "owner_id": rng.choice(user_ids),
                        "status": "open",
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(1, contacts // 20 + 1)
                ],
            )
            search_index.rebuild(session)
    finally:  # closing the last connection checkpoints the WAL into the file
        db.dispose()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--contacts", type=int, default=10_000)
    args = parser.parse_args()
    print(build(args.path, args.contacts))


if __name__ == "__main__":
    main()
