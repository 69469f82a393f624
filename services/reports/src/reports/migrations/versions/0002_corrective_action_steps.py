"""corrective action steps: one row per CorrectiveActionChanged (opened, started, done, verified,
rejected), for the month's actions opened/done/verified

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "corrective_action_steps",
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("action_id", sa.String(length=100), nullable=False),
        sa.Column("action_no", sa.String(length=100), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("changed_at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("owner_department", sa.String(length=30), nullable=False),
        sa.Column("cause_category", sa.String(length=50), nullable=True),
        sa.Column("product_line", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_corrective_action_steps")),
    )
    for column in ("action_id", "changed_at"):
        op.create_index(
            op.f(f"ix_corrective_action_steps_{column}"), "corrective_action_steps", [column]
        )


def downgrade() -> None:
    op.drop_table("corrective_action_steps")
