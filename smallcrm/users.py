"""The team: users own records and receive their reminders."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from smallcrm import records, settings
from smallcrm.errors import Duplicate, Invalid, NotFound
from smallcrm.store import Db
from smallcrm.store import history as _history
from smallcrm.store.tables import User, now_utc
from smallcrm.values import validate_email

# Every recorded change names its author: who "I" am is settled here, not in the store.
_history.user_source = settings.current_login


def to_record(row: User) -> records.User:
    return records.User(id=row.id, name=row.name, email=row.email, created_at=row.created_at)


def _by_identity(session: Session, who: str) -> User | None:
    who = who.strip()
    if who.isascii() and who.isdigit() and len(who) < 19:
        found = session.get(User, int(who))
        if found:
            return found
    row = session.exec(select(User).where(User.login == who.lower())).first()
    if row is None and "@" in who:
        row = session.exec(select(User).where(func.lower(User.email) == who.lower())).first()
    return row


def me(session: Session) -> User:
    """The current user's row, created on first use (inside the caller's write transaction)."""
    login = settings.current_login()
    row = _by_identity(session, login)
    if row is None:
        row = User(login=login.lower(), name=login, created_at=now_utc())
        session.add(row)
        session.flush()
    return row


def find(session: Session, who: str, *, create_me: bool = False) -> User | None:
    """A user by id, name or email; `me` is the current user."""
    if who.strip().lower() == "me":
        if create_me:
            return me(session)
        return _by_identity(session, settings.current_login())
    return _by_identity(session, who)


def resolve(session: Session, who: str) -> User:
    row = find(session, who, create_me=True)
    if row is None:
        raise NotFound(f"no user '{who}' (see `smallcrm user list`)")
    return row


def add(db: Db, name: str, *, email: str | None = None) -> records.User:
    name = name.strip()
    if not name:
        raise Invalid("a user needs a name")
    email = validate_email(email) if email else None
    with db.write() as session:
        if session.exec(select(User).where(User.login == name.lower())).first():
            raise Duplicate(f"user '{name}' already exists")
        row = User(login=name.lower(), name=name, email=email, created_at=now_utc())
        session.add(row)
        session.flush()
        return to_record(row)


def list_users(db: Db, *, limit: int | None = None) -> list[records.User]:
    with db.read() as session:
        rows = session.exec(select(User).order_by(User.id).limit(limit)).all()
        return [to_record(r) for r in rows]


def current(db: Db) -> records.User:
    with db.write() as session:
        return to_record(me(session))


def set_email(db: Db, who: str, email: str | None) -> records.User:
    email = validate_email(email) if email else None
    with db.write() as session:
        row = resolve(session, who)
        row.email = email
        session.add(row)
        session.flush()
        return to_record(row)
