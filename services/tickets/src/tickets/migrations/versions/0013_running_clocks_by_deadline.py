"""running clocks by deadline (issue 21: the board with 10,000 open tickets): a partial index on
`sla_clocks(deadline) WHERE state = 'running'`, so the board's first page walks the nearest
deadlines (a few dozen index entries) instead of grouping every running clock

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = sa.text("state = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sla_clocks_running_deadline",
            ["deadline"],
            unique=False,
            postgresql_where=RUNNING,
            sqlite_where=RUNNING,
        )


def downgrade() -> None:
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_running_deadline")
