"""complaint level and type on the ticket facts (ComplaintClassified), for the monthly report's
complaint types and levels

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ticket_facts",
        sa.Column(
            "complaint_level",
            sa.String(length=10),
            nullable=True,
            comment="a complaint's level as last classified (ComplaintClassified)",
        ),
    )
    op.add_column("ticket_facts", sa.Column("complaint_type", sa.String(length=30), nullable=True))
    op.add_column(
        "ticket_facts",
        sa.Column(
            "complaint_classified_at",
            aftersales_shared.db.UTCDateTime(timezone=True),
            nullable=True,
        ),
    )


def downgrade() -> None:
    for column in ("complaint_classified_at", "complaint_type", "complaint_level"):
        op.drop_column("ticket_facts", column)
