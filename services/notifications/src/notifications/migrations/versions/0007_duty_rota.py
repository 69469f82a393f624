"""duty_shifts: the rota — who hears a group's alerts outside working time

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_name", sa.String(length=40), nullable=False),
        sa.Column("recipient_id", sa.String(length=100), nullable=False),
        sa.Column("starts_at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
    )
    with op.batch_alter_table("duty_shifts") as batch:
        batch.create_index(
            "ix_duty_shifts_group_window", ["group_name", "starts_at", "ends_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("duty_shifts") as batch:
        batch.drop_index("ix_duty_shifts_group_window")
    op.drop_table("duty_shifts")
