"""the wechat channel (issue 22 item 1): a recipient's openid at the official account and the
account's access token, one row per AppID shared by the replicas

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = aftersales_shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "recipients",
        sa.Column(
            "wechat_openid",
            sa.String(length=64),
            nullable=True,
            comment="openid at the company's WeChat official account (template messages)",
        ),
    )
    op.create_table(
        "wechat_tokens",
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("refreshed_at", UTC_TIME, nullable=True),
        sa.Column("refreshes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_wechat_tokens")),
    )


def downgrade() -> None:
    op.drop_table("wechat_tokens")
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("wechat_openid")
