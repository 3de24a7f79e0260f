"""Integrity checks and other upkeep that differ per dialect."""

from __future__ import annotations

from sqlmodel import Session


def integrity_problems(session: Session) -> list[str]:
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return []
    rows = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else rows


def foreign_key_problems(session: Session) -> list[str]:
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return []
    return [
        f"{table} row {rowid} refers to a missing {parent}"
        for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check")
    ]
