"""return visits (回访): one per completed ticket that gets one, its calls and outcome

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


def upgrade() -> None:
    op.create_table(
        "return_visits",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_no", sa.String(length=64), nullable=False),
        sa.Column(
            "reason", sa.String(length=20), nullable=False, comment="critical|complaint|sampled"
        ),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column("engineer_id", sa.String(length=64), nullable=True),
        sa.Column("dealer_id", sa.String(length=64), nullable=True),
        sa.Column("product_model", sa.String(length=100), nullable=True),
        sa.Column("request_type", sa.String(length=50), nullable=True),
        sa.Column("urgency", sa.String(length=20), nullable=True),
        sa.Column("completed_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False, comment="open|done|unreachable"),
        sa.Column(
            "calls", sa.JSON(), nullable=False, comment="[{at, by, outcome, note}] oldest first"
        ),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("overdue_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("source_event_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_visits")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_return_visits_ticket_id")),
    )
    for column in ("ticket_no", "reason", "customer_id", "dealer_id", "due_at", "status"):
        op.create_index(op.f(f"ix_return_visits_{column}"), "return_visits", [column])


def downgrade() -> None:
    op.drop_table("return_visits")
