"""complaints as a process (issue 19 item 2): a complaint record per complaint ticket (level,
owner, stage, round, the limit told to the customer, the findings), each step's clock per round, and
the proposed resolutions with the customer's answer (投诉处理确认书) and the hash of its link

Complaint tickets that exist already get their record: level general, owned by
TICKETS_COMPLAINT_OWNER (default sup-zhang) like every complaint arriving without a person; an open
one waits for its acknowledgement (no clock: it arrived before complaints had clocks), a completed
one is closed.

Revision ID: 0009
Revises: 0008
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = aftersales_shared.db.UTCDateTime(timezone=True)
DEFAULT_OWNER = "sup-zhang"


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_no", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(length=100), nullable=False),
        sa.Column("management", sa.Boolean(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTC_TIME, nullable=False),
        sa.Column("round_started_at", UTC_TIME, nullable=False),
        sa.Column("acknowledged_at", UTC_TIME, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("limit_told_at", UTC_TIME, nullable=True),
        sa.Column("limit_told_by", sa.String(length=100), nullable=True),
        sa.Column("limit_told_via", sa.String(length=20), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("investigated_at", UTC_TIME, nullable=True),
        sa.Column("investigated_by", sa.String(length=100), nullable=True),
        sa.Column("accepted_at", UTC_TIME, nullable=True),
        sa.Column("closed_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_complaints_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("ticket_no", name=op.f("uq_complaints_ticket_no")),
    )
    for column in ("level", "owner_id", "stage"):
        op.create_index(op.f(f"ix_complaints_{column}"), "complaints", [column], unique=False)
    op.create_table(
        "complaint_clocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("met_at", UTC_TIME, nullable=True),
        sa.Column("overdue_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["complaints.ticket_id"],
            name=op.f("fk_complaint_clocks_ticket_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_clocks")),
        sa.UniqueConstraint("ticket_id", "round", "stage", name="uq_complaint_clocks_step"),
    )
    op.create_table(
        "complaint_proposals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("proposed_at", UTC_TIME, nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("link_masked", sa.String(length=300), nullable=True),
        sa.Column("expires_at", UTC_TIME, nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("confirmed_by", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["complaints.ticket_id"],
            name=op.f("fk_complaint_proposals_ticket_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_proposals")),
    )
    op.create_index(
        op.f("ix_complaint_proposals_ticket_id"),
        "complaint_proposals",
        ["ticket_id"],
        unique=False,
    )
    op.create_index(
        "uq_complaint_proposals_token",
        "complaint_proposals",
        ["token_hash"],
        unique=True,
        postgresql_where=sa.text("token_hash IS NOT NULL"),
        sqlite_where=sa.text("token_hash IS NOT NULL"),
    )
    _existing_complaints()


def _existing_complaints() -> None:
    owner = os.environ.get("TICKETS_COMPLAINT_OWNER") or DEFAULT_OWNER
    op.execute(
        sa.text(
            "INSERT INTO complaints (ticket_id, ticket_no, level, stage, round, owner_id, "
            "management, escalations, opened_at, round_started_at, closed_at) "
            "SELECT id, ticket_no, 'general', "
            "CASE WHEN status = 'completed' THEN 'closed' ELSE 'acknowledgement' END, "
            "1, :owner, false, 0, opened_at, opened_at, completed_at "
            "FROM tickets WHERE request_type = 'complaint'"
        ).bindparams(owner=owner)
    )


def downgrade() -> None:
    op.drop_index("uq_complaint_proposals_token", table_name="complaint_proposals")
    op.drop_index(op.f("ix_complaint_proposals_ticket_id"), table_name="complaint_proposals")
    op.drop_table("complaint_proposals")
    op.drop_table("complaint_clocks")
    for column in ("level", "owner_id", "stage"):
        op.drop_index(op.f(f"ix_complaints_{column}"), table_name="complaints")
    op.drop_table("complaints")
