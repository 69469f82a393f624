"""report indexes: follow-up tickets by the ticket they follow up (first-time fix looks them up
for a month's completed tickets; without it a scan of every ticket per report)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_ticket_facts_follow_up_of",
        "ticket_facts",
        ["follow_up_of"],
        postgresql_where=sa.text("follow_up_of IS NOT NULL"),
        sqlite_where=sa.text("follow_up_of IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_facts_follow_up_of", table_name="ticket_facts")
