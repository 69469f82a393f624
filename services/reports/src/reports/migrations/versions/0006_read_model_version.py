"""read model version: one row counting the transactions that changed the read model, so a report
computed once is served again (every format, the drill-down's page) until an event changes a figure

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "read_model_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read_model_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0, "changed_at": None}])


def downgrade() -> None:
    op.drop_table("read_model_version")
