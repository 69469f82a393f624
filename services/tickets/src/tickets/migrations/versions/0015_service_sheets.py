"""the customer's signed 维修服务单 (issue 22 item 4): frozen sheets (canonical JSON, its SHA-256,
the hash of the link's token) and their signatures (one per sheet, the PNG bytes),
and the finger signatures of 投诉处理确认书 answered on the page

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = aftersales_shared.db.UTCDateTime(timezone=True)
SIGNED = ("service_sheets", "service_sheet_signatures", "complaint_signatures")
REFUSE = "signed documents are append-only (已签字的单据只能追加，不能修改或删除)"


def append_only() -> None:
    """The database itself refuses to change or delete a frozen sheet or a signature."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION tickets_signed_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{REFUSE}'; END $$"
        )
        for table in SIGNED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION tickets_signed_append_only()"
            )
        return
    for table in SIGNED:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSE}'); END"
            )


def drop_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in SIGNED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tickets_signed_append_only()")
        return
    for table in SIGNED:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def upgrade() -> None:
    op.create_table(
        "service_sheets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("document", sa.String(length=30), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("frozen_by", sa.String(length=100), nullable=False),
        sa.Column("frozen_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_service_sheets_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_sheets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_service_sheets_token_hash")),
    )
    op.create_index(
        op.f("ix_service_sheets_ticket_id"), "service_sheets", ["ticket_id"], unique=False
    )
    op.create_table(
        "service_sheet_signatures",
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("signer_name", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("signed_at", UTC_TIME, nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["service_sheets.id"],
            name=op.f("fk_service_sheet_signatures_sheet_id_service_sheets"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_service_sheet_signatures_ticket_id_tickets"),
        ),
        sa.PrimaryKeyConstraint("sheet_id", name=op.f("pk_service_sheet_signatures")),
    )
    op.create_index(
        op.f("ix_service_sheet_signatures_ticket_id"),
        "service_sheet_signatures",
        ["ticket_id"],
        unique=False,
    )
    op.create_table(
        "complaint_signatures",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("signer_name", sa.String(length=100), nullable=False),
        sa.Column("signed_at", UTC_TIME, nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["complaint_proposals.id"],
            name=op.f("fk_complaint_signatures_proposal_id_complaint_proposals"),
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_complaint_signatures")),
    )
    op.create_index(
        op.f("ix_complaint_signatures_ticket_id"),
        "complaint_signatures",
        ["ticket_id"],
        unique=False,
    )
    append_only()


def downgrade() -> None:
    drop_append_only()
    op.drop_index(op.f("ix_complaint_signatures_ticket_id"), table_name="complaint_signatures")
    op.drop_table("complaint_signatures")
    op.drop_index(
        op.f("ix_service_sheet_signatures_ticket_id"), table_name="service_sheet_signatures"
    )
    op.drop_table("service_sheet_signatures")
    op.drop_index(op.f("ix_service_sheets_ticket_id"), table_name="service_sheets")
    op.drop_table("service_sheets")
