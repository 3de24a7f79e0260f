"""History of changes (for `history` and `undo`) and tombstones of erased people.

Revision ID: 0003_history
Revises: 0002_search_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_history"
down_revision = "0002_search_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changeset",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_login", sa.String, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("undo_of", sa.Integer),
        sa.Column("undone_by", sa.Integer),
    )
    op.create_index("ix_changeset_user", "changeset", ["user_login", "id"])
    op.create_table(
        "change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "changeset_id",
            sa.Integer,
            sa.ForeignKey("changeset.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("record_id", sa.Integer),
        sa.Column("op", sa.String, nullable=False),
        sa.Column("field", sa.String),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
        sa.Column("contact_id", sa.Integer),
        sa.Column("company_id", sa.Integer),
        sa.Column("lead_id", sa.Integer),
    )
    op.create_index("ix_change_changeset", "change", ["changeset_id"])
    op.create_index("ix_change_record", "change", ["kind", "record_id"])
    op.create_index("ix_change_contact", "change", ["contact_id"])
    op.create_index("ix_change_company", "change", ["company_id"])
    op.create_index("ix_change_lead", "change", ["lead_id"])
    op.create_table(
        "tombstone",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("salt", sa.String, nullable=False),
        sa.Column("email_hash", sa.String),
        sa.Column("record_hash", sa.String, nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tombstone_email", "tombstone", ["email_hash"])
    op.create_index("ix_tombstone_record", "tombstone", ["record_hash"])


def downgrade() -> None:
    for table in ("tombstone", "change", "changeset"):
        op.drop_table(table)
