"""the WeChat official account (issue 22 item 1): the openid of a ticket's contact, the repair
dialogue per openid and the pushed messages already answered (the platform's retries)

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = aftersales_shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "tickets", sa.Column("contact_wechat_openid", sa.String(length=64), nullable=True)
    )
    op.create_index(
        op.f("ix_tickets_contact_wechat_openid"), "tickets", ["contact_wechat_openid"], unique=False
    )
    op.create_table(
        "wechat_dialogues",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("openid", name=op.f("pk_wechat_dialogues")),
    )
    op.create_index(
        op.f("ix_wechat_dialogues_expires_at"), "wechat_dialogues", ["expires_at"], unique=False
    )
    op.create_table(
        "wechat_messages",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wechat_messages")),
    )
    op.create_index(
        op.f("ix_wechat_messages_created_at"), "wechat_messages", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_wechat_messages_created_at"), table_name="wechat_messages")
    op.drop_table("wechat_messages")
    op.drop_index(op.f("ix_wechat_dialogues_expires_at"), table_name="wechat_dialogues")
    op.drop_table("wechat_dialogues")
    op.drop_index(op.f("ix_tickets_contact_wechat_openid"), table_name="tickets")
    op.drop_column("tickets", "contact_wechat_openid")
