"""the follow-up call after a training (培训后回访): due time, calls, outcome, overdue

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = aftersales_shared.db.UTCDateTime(timezone=True)


def columns() -> tuple[sa.Column, ...]:  # fresh each time: a Column joins one table only
    return (
        sa.Column("follow_up_due_at", UTC, nullable=True),
        sa.Column(
            "follow_up_due_provisional", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
        sa.Column("follow_up_calls", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column(
            "follow_up_outcome",
            sa.String(length=20),
            nullable=True,
            comment="mastered | needs_retraining | unreachable",
        ),
        sa.Column("follow_up_at", UTC, nullable=True),
        sa.Column("follow_up_by", sa.String(length=100), nullable=True),
        sa.Column("follow_up_overdue_at", UTC, nullable=True),
    )


def upgrade() -> None:
    with op.batch_alter_table("order_trainings") as batch:
        for column in columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("order_trainings") as batch:
        for column in reversed(columns()):
            batch.drop_column(column.name)
