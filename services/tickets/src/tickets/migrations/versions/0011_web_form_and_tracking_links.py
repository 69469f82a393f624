"""the public web form and the customer's tracking page (issue 22 item 3): tracking links (only the
hash of each token), the web form's used proof-of-work challenges and its rate counters per phone
and per client address

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = aftersales_shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tracking_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_tracking_links_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_tracking_links")),
    )
    op.create_index(
        op.f("ix_tracking_links_ticket_id"), "tracking_links", ["ticket_id"], unique=False
    )
    op.create_table(
        "webform_challenges",
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("challenge_hash", name=op.f("pk_webform_challenges")),
    )
    op.create_index(
        op.f("ix_webform_challenges_expires_at"), "webform_challenges", ["expires_at"], unique=False
    )
    op.create_table(
        "webform_rates",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", UTC_TIME, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", "window_start", name=op.f("pk_webform_rates")),
    )
    op.create_index(
        op.f("ix_webform_rates_window_start"), "webform_rates", ["window_start"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_webform_rates_window_start"), table_name="webform_rates")
    op.drop_table("webform_rates")
    op.drop_index(op.f("ix_webform_challenges_expires_at"), table_name="webform_challenges")
    op.drop_table("webform_challenges")
    op.drop_index(op.f("ix_tracking_links_ticket_id"), table_name="tracking_links")
    op.drop_table("tracking_links")
