"""unit_conflicts: a dealer's self-registration of a serial that a signed contract sells through another dealer

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftersales_shared.db import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_conflicts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("serial_no", sa.String(length=100), nullable=False),
        sa.Column("registered_by_dealer", sa.String(length=64), nullable=False),
        sa.Column("contract_dealer", sa.String(length=64), nullable=False),
        sa.Column("contract_no", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False, comment="open | resolved"),
        sa.Column(
            "resolution",
            sa.String(length=30),
            nullable=True,
            comment="contract_confirmed | registration_was_wrong",
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_conflicts")),
    )
    for col in ("serial_no", "registered_by_dealer", "contract_dealer"):
        op.create_index(op.f(f"ix_unit_conflicts_{col}"), "unit_conflicts", [col], unique=False)


def downgrade() -> None:
    for col in ("serial_no", "registered_by_dealer", "contract_dealer"):
        op.drop_index(op.f(f"ix_unit_conflicts_{col}"), table_name="unit_conflicts")
    op.drop_table("unit_conflicts")
