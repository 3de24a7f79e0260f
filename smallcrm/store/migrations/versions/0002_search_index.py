"""Full-text search index over contacts, companies, leads and activities.

Revision ID: 0002_search_index
Revises: 0001_initial
"""

from alembic import op
from sqlmodel import Session

from smallcrm.store import search_index

revision = "0002_search_index"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    search_index.create(conn)
    # Records made before this revision must be findable too.
    search_index.rebuild(Session(bind=conn))


def downgrade() -> None:
    search_index.drop(op.get_bind())
