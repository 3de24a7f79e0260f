"""Alembic environment: smallcrm always hands it a live connection (see runner.py)."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("smallcrm migrations run through smallcrm.store.migrate, not the CLI")

context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
