"""tickets.channel 60 and tickets.opened_by 300: a partner channel such as partner-call-centre-east and
"partner:" + a ce-source of up to 200 characters are kept whole (they were cut to 20 and 100)

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
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column(
            "channel", type_=sa.String(60), existing_type=sa.String(20), existing_nullable=False
        )
        batch.alter_column(
            "opened_by", type_=sa.String(300), existing_type=sa.String(100), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column(
            "opened_by", type_=sa.String(100), existing_type=sa.String(300), existing_nullable=False
        )
        batch.alter_column(
            "channel", type_=sa.String(20), existing_type=sa.String(60), existing_nullable=False
        )
