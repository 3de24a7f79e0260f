"""Alembic migrations. The revision list is kept here so opening a database needs no Alembic."""

# Oldest first; a test checks this matches the scripts in versions/.
REVISIONS: tuple[str, ...] = ("0001_initial", "0002_search_index", "0003_history")
HEAD = REVISIONS[-1]
