"""The core tables and the default pipeline.

Revision ID: 0001_initial
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

DEFAULT_STAGES = [
    # name, probability %, days in stage before a lead counts as stale
    ("New", 10, 7),
    ("Contacted", 20, 14),
    ("Qualified", 40, 21),
    ("Proposal", 60, 14),
    ("Negotiation", 80, 10),
]


def when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def fk(name: str, target: str, ondelete: str = "SET NULL", nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("login", sa.String, nullable=False, unique=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("email", sa.String),
        when("created_at"),
    )
    op.create_table(
        "company",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("domain", sa.String),
        sa.Column("industry", sa.String),
        sa.Column("city", sa.String),
        sa.Column("country", sa.String),
        sa.Column("territory", sa.String),
        sa.Column("relationship", sa.String),
        sa.Column("phone", sa.String),
        sa.Column("note", sa.String),
        fk("owner_id", "user_account.id"),
        sa.Column("extra", sa.JSON),
        sa.Column("version", sa.Integer, nullable=False),
        when("created_at"),
        when("updated_at"),
    )
    op.create_index("ix_company_domain", "company", ["domain"])
    op.create_index("ix_company_name_lower", "company", [sa.text("lower(name)")])
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("email", sa.String),
        sa.Column("phone", sa.String),
        sa.Column("title", sa.String),
        fk("company_id", "company.id"),
        sa.Column("stage", sa.String),
        fk("owner_id", "user_account.id"),
        sa.Column("note", sa.String),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("do_not_contact", sa.Boolean, nullable=False),
        sa.Column("extra", sa.JSON),
        sa.Column("version", sa.Integer, nullable=False),
        when("created_at"),
        when("updated_at"),
    )
    op.create_index("ux_contact_email_lower", "contact", [sa.text("lower(email)")], unique=True)
    op.create_index("ix_contact_name_lower", "contact", [sa.text("lower(name)")])
    op.create_index("ix_contact_owner", "contact", ["owner_id"])
    op.create_index("ix_contact_company", "contact", ["company_id"])
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    for owner in ("contact", "company"):
        op.create_table(
            f"{owner}_tag",
            fk(f"{owner}_id", f"{owner}.id", "CASCADE", nullable=False),
            fk("tag_id", "tag.id", "CASCADE", nullable=False),
            sa.PrimaryKeyConstraint(f"{owner}_id", "tag_id"),
        )
    op.create_table(
        "pipeline",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("is_default", sa.Boolean, nullable=False),
    )
    op.create_table(
        "stage",
        sa.Column("id", sa.Integer, primary_key=True),
        fk("pipeline_id", "pipeline.id", "CASCADE", nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("probability", sa.Integer, nullable=False),
        sa.Column("stale_days", sa.Integer, nullable=False),
    )
    op.create_table(
        "lead",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String, nullable=False),
        fk("contact_id", "contact.id"),
        fk("company_id", "company.id"),
        fk("pipeline_id", "pipeline.id", "RESTRICT", nullable=False),
        fk("stage_id", "stage.id", "RESTRICT", nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("value_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.String, nullable=False),
        sa.Column("probability", sa.Integer),
        sa.Column("expected_close", sa.Date),
        fk("owner_id", "user_account.id"),
        sa.Column("lost_reason", sa.String),
        sa.Column("extra", sa.JSON),
        sa.Column("version", sa.Integer, nullable=False),
        when("stage_entered_at"),
        when("created_at"),
        when("updated_at"),
        when("closed_at", nullable=True),
    )
    op.create_index("ix_lead_status_stage", "lead", ["status", "stage_id"])
    op.create_index("ix_lead_owner_status", "lead", ["owner_id", "status"])
    op.create_index("ix_lead_contact", "lead", ["contact_id"])
    op.create_index("ix_lead_company", "lead", ["company_id"])
    op.create_table(
        "lead_tag",
        fk("lead_id", "lead.id", "CASCADE", nullable=False),
        fk("tag_id", "tag.id", "CASCADE", nullable=False),
        sa.PrimaryKeyConstraint("lead_id", "tag_id"),
    )
    op.create_table(
        "stage_change",
        sa.Column("id", sa.Integer, primary_key=True),
        fk("lead_id", "lead.id", "CASCADE", nullable=False),
        fk("from_stage_id", "stage.id"),
        fk("to_stage_id", "stage.id"),
        sa.Column("event", sa.String, nullable=False),
        when("changed_at"),
        fk("user_id", "user_account.id"),
    )
    op.create_index("ix_stage_change_lead", "stage_change", ["lead_id", "changed_at"])
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("direction", sa.String),
        sa.Column("summary", sa.String, nullable=False),
        sa.Column("body", sa.String),
        when("occurred_at"),
        sa.Column("duration_min", sa.Integer),
        fk("contact_id", "contact.id", "CASCADE"),
        fk("company_id", "company.id", "CASCADE"),
        fk("lead_id", "lead.id"),
        fk("user_id", "user_account.id"),
        when("created_at"),
    )
    op.create_index("ix_activity_contact_time", "activity", ["contact_id", "occurred_at"])
    op.create_index("ix_activity_company_time", "activity", ["company_id", "occurred_at"])
    op.create_index("ix_activity_lead_time", "activity", ["lead_id", "occurred_at"])
    op.create_index("ix_activity_time", "activity", ["occurred_at"])
    op.create_table(
        "followup",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String, nullable=False),
        when("due_at"),
        fk("contact_id", "contact.id", "CASCADE"),
        fk("company_id", "company.id", "CASCADE"),
        fk("lead_id", "lead.id"),
        fk("owner_id", "user_account.id"),
        sa.Column("status", sa.String, nullable=False),
        when("reminded_at", nullable=True),
        when("claimed_until", nullable=True),
        sa.Column("claim_token", sa.String),
        when("done_at", nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        when("created_at"),
        when("updated_at"),
    )
    op.create_index("ix_followup_status_due", "followup", ["status", "due_at"])
    op.create_index(
        "ix_followup_owner_status_due", "followup", ["owner_id", "status", "due_at"]
    )
    op.create_index("ix_followup_contact", "followup", ["contact_id"])
    op.create_index("ix_followup_company", "followup", ["company_id"])
    op.create_index("ix_followup_lead", "followup", ["lead_id"])
    _seed_default_pipeline()


def _seed_default_pipeline() -> None:
    pipeline = sa.table(
        "pipeline", sa.column("id"), sa.column("name"), sa.column("is_default")
    )
    stage = sa.table(
        "stage",
        sa.column("pipeline_id"),
        sa.column("name"),
        sa.column("position"),
        sa.column("probability"),
        sa.column("stale_days"),
    )
    op.bulk_insert(pipeline, [{"id": 1, "name": "Sales", "is_default": True}])
    op.bulk_insert(
        stage,
        [
            {"pipeline_id": 1, "name": name, "position": i, "probability": p, "stale_days": d}
            for i, (name, p, d) in enumerate(DEFAULT_STAGES, start=1)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # The pipeline's id was given explicitly; move its sequence past it.
        op.execute("SELECT setval(pg_get_serial_sequence('pipeline', 'id'), 1)")


def downgrade() -> None:
    for table in (
        "followup", "activity", "stage_change", "lead_tag", "lead", "stage", "pipeline",
        "company_tag", "contact_tag", "tag", "contact", "company", "user_account",
    ):
        op.drop_table(table)
