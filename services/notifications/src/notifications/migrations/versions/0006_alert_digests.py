"""deliveries.merged_into: alerts to one person about one subject that burst are sent as one digest;
the others are 'merged' into the delivery that carried them.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column(
                "merged_into",
                sa.String(36),
                nullable=True,
                comment="the digest delivery that carried this alert (status merged)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("merged_into")
