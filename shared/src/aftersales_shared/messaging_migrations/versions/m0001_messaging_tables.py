"""the messaging tables, where a service's own history has not made them (a new service)

The shape is frozen here as it was when this history began (event ids 200 wide); later changes are new
revisions of this history. Existing services made the same tables in their own histories: nothing to do there.

Revision ID: m0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftersales_shared.db import UTCDateTime

revision: str = "m0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("messaging",)
depends_on: str | Sequence[str] | None = None

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _tables() -> sa.MetaData:
    md = sa.MetaData(naming_convention=NAMING)
    sa.Table(
        "outbox",
        md,
        sa.Column("id", sa.String(64), primary_key=True, comment="event id = Nats-Msg-Id"),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("published_at", UTCDateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Index(
            "ix_outbox_unpublished",
            "created_at",
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        ),
    )
    sa.Table(
        "inbox",
        md,
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("handled_at", UTCDateTime, nullable=False),
    )
    sa.Table(
        "dead_letters",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("event_type", sa.String(255), nullable=True),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False, comment="malformed | failed"),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("replayed_at", UTCDateTime, nullable=True),
        sa.Column("replay_error", sa.Text, nullable=True),
        sa.UniqueConstraint(
            "consumer", "event_id", "reason", name="uq_dead_letters_consumer_event"
        ),
        sa.Index("ix_dead_letters_open", "consumer", "replayed_at"),
    )
    sa.Table(
        "scheduled_jobs",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, comment="pending | done | cancelled"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("fired_at", UTCDateTime, nullable=True),
        sa.UniqueConstraint("kind", "key", name="uq_scheduled_jobs_kind_key"),
        sa.Index(
            "ix_scheduled_jobs_due",
            "due_at",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
    )
    sa.Table(
        "calendar_copies",
        md,
        sa.Column("calendar_id", sa.String(64), primary_key=True),
        sa.Column("definition", sa.Text, nullable=False, comment="CalendarChanged v1 body"),
        sa.Column("changed_at", UTCDateTime, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )
    return md


def upgrade() -> None:
    _tables().create_all(op.get_bind(), checkfirst=True)  # only what is missing


def downgrade() -> None:
    pass  # the tables may belong to the service's own history: never dropped from here
