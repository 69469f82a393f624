"""the engineer roster supervisors keep (issue #21): who dispatch may choose, their region,
phone, skills, whether active and whether on leave (until a day); TICKETS_ENGINEERS is only the
seed the service writes into the empty table at start

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engineers",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("on_leave", sa.Boolean(), nullable=False),
        sa.Column("leave_until", sa.Date(), nullable=True),
        sa.Column("created_at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engineers")),
    )
    with op.batch_alter_table("engineers", schema=None) as batch_op:
        batch_op.create_index("ix_engineers_active_region", ["active", "region"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("engineers", schema=None) as batch_op:
        batch_op.drop_index("ix_engineers_active_region")
    op.drop_table("engineers")
