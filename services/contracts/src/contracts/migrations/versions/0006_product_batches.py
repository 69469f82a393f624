"""a sold unit's production batch (生产批次): the denominator of the reports' batch failure rates

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
    with op.batch_alter_table("contract_products") as batch:
        batch.add_column(sa.Column("batch_no", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contract_products") as batch:
        batch.drop_column("batch_no")
