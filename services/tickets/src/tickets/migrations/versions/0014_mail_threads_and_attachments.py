"""e-mail threads (issue 22 item 2): every message of the service mailbox by Message-ID, the mail
the service sends until the relay takes it, and files kept with a ticket

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = aftersales_shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_messages",
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=True),
        sa.Column("sender", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_mail_messages_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_mail_messages")),
    )
    op.create_index(op.f("ix_mail_messages_ticket_id"), "mail_messages", ["ticket_id"])
    op.create_index(op.f("ix_mail_messages_created_at"), "mail_messages", ["created_at"])
    op.create_table(
        "mail_outgoing",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("mail_from", sa.String(length=254), nullable=False),
        sa.Column("rcpt_to", sa.String(length=254), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("next_try_at", UTC_TIME, nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outgoing")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_outgoing_message_id")),
    )
    op.create_index(op.f("ix_mail_outgoing_next_try_at"), "mail_outgoing", ["next_try_at"])
    op.create_table(
        "ticket_attachments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("progress_id", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=400), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_attachments_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_attachments")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_ticket_attachments_storage_key")),
    )
    op.create_index(op.f("ix_ticket_attachments_ticket_id"), "ticket_attachments", ["ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_attachments_ticket_id"), table_name="ticket_attachments")
    op.drop_table("ticket_attachments")
    op.drop_index(op.f("ix_mail_outgoing_next_try_at"), table_name="mail_outgoing")
    op.drop_table("mail_outgoing")
    op.drop_index(op.f("ix_mail_messages_created_at"), table_name="mail_messages")
    op.drop_index(op.f("ix_mail_messages_ticket_id"), table_name="mail_messages")
    op.drop_table("mail_messages")
