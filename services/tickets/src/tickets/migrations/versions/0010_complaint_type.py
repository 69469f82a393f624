"""complaint type (投诉类型): what a complaint is about, for the monthly analysis

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("complaints", sa.Column("complaint_type", sa.String(length=30), nullable=True))


def downgrade() -> None:
    op.drop_column("complaints", "complaint_type")
