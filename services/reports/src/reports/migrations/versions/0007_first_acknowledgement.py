"""first acknowledgement: when each ticket was first acknowledged (TicketAcknowledged), so the report
measures the first response per channel against its 10-minute clock (issue 22 item 5)

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
    with op.batch_alter_table("ticket_facts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "acknowledged_at",
                aftersales_shared.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="the first acknowledgement (TicketAcknowledged): the first response per "
                "channel",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_facts", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_at")
