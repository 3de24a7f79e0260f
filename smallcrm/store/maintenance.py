"""Integrity checks and other upkeep that differ per dialect."""

from __future__ import annotations

from sqlalchemy import Table, inspect
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel

# Orphans listed one by one per foreign key before the rest are only counted.
_SHOWN_PER_KEY = 20


def _tables() -> list[Table]:
    from smallcrm.store import tables

    tables.load_all()
    return list(SQLModel.metadata.sorted_tables)


def integrity_problems(session: Session) -> list[str]:
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        rows = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows
    return _server_integrity(conn)


def _server_integrity(conn: Connection) -> list[str]:
    """A server checks its own pages; what can still go wrong is the schema: a table dropped
    or triggers switched off (PostgreSQL enforces foreign keys with triggers)."""
    present = set(inspect(conn).get_table_names())
    problems = [
        f"table {table.name} is missing" for table in _tables() if table.name not in present
    ]
    if "search_index" not in present:
        problems.append("table search_index is missing (search finds nothing)")
    disabled = conn.exec_driver_sql(
        "SELECT c.relname, t.tgname FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND t.tgenabled = 'D' ORDER BY 1, 2"
    )
    problems.extend(
        f"trigger {name} on {table} is disabled (foreign keys are not enforced)"
        for table, name in disabled
    )
    return problems


def foreign_key_problems(session: Session) -> list[str]:
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return [
            f"{table} row {rowid} refers to a missing {parent}"
            for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check")
        ]
    return _server_foreign_keys(conn)


def _server_foreign_keys(conn: Connection) -> list[str]:
    """Every foreign key the schema declares exists, is validated, and no row breaks it."""
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    unvalidated = {
        (table, name)
        for table, name in conn.exec_driver_sql(
            "SELECT c.relname, k.conname FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND k.contype = 'f' AND NOT k.convalidated"
        )
    }
    problems: list[str] = []
    for table in _tables():
        if table.name not in present:
            continue
        declared = {
            (tuple(fk["constrained_columns"]), fk["referred_table"]): fk.get("name")
            for fk in inspector.get_foreign_keys(table.name)
        }
        for key in table.foreign_keys:
            column, parent = key.parent.name, key.column.table.name
            name = declared.get(((column,), parent))
            if name is None:
                problems.append(f"{table.name}.{column} has no foreign key to {parent}")
            elif (table.name, name) in unvalidated:
                problems.append(f"foreign key {name} on {table.name} is not validated")
            problems.extend(_orphans(conn, table, column, parent, key.column.name))
    return problems


def _orphans(conn: Connection, table: Table, column: str, parent: str, target: str) -> list[str]:
    where = (
        f"WHERE t.{column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {parent} p WHERE p.{target} = t.{column})"
    )
    if "id" not in table.c:
        count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table.name} t {where}").scalar()
        return [f"{count} {table.name} rows refer to a missing {parent}"] if count else []
    rows = conn.exec_driver_sql(
        f"SELECT t.id FROM {table.name} t {where} ORDER BY t.id LIMIT {_SHOWN_PER_KEY + 1}"
    ).all()
    found = [f"{table.name} row {row_id} refers to a missing {parent}" for (row_id,) in rows]
    if len(found) > _SHOWN_PER_KEY:
        count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table.name} t {where}").scalar()
        found[-1] = f"{table.name}: {count - _SHOWN_PER_KEY} more rows refer to a missing {parent}"
    return found


def reset_id_sequences(session: Session) -> None:
    """After rows were inserted with their ids given (a copy), make new ids follow the largest.

    SQLite picks max(rowid) + 1 by itself; PostgreSQL's sequences must be moved.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
        )
