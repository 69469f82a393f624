"""invoice cancel and red-letter reversal: withdrawn/reversed requests with who, when, why and the
red invoice; one live request per ticket (a partial unique index) instead of one ever

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status IN ('requested', 'issued')")


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cancelled_at",
                aftersales_shared.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="when withdrawn or reversed",
            )
        )
        batch_op.add_column(sa.Column("cancelled_by", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "cancel_reason",
                sa.String(length=500),
                nullable=True,
                comment="withdrawn: the words typed; reversed: invoicing.REVERSAL_REASONS",
            )
        )
        batch_op.add_column(sa.Column("cancel_note", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column(
                "red_invoice_code", sa.String(length=12), nullable=True, comment="红字发票代码"
            )
        )
        batch_op.add_column(
            sa.Column(
                "red_invoice_number", sa.String(length=20), nullable=True, comment="红字发票号码"
            )
        )
        batch_op.add_column(
            sa.Column(
                "red_invoice_key",
                sa.String(length=40),
                nullable=True,
                comment="the red invoice's key, like invoice_key",
            )
        )
        batch_op.add_column(
            sa.Column("red_issue_date", sa.Date(), nullable=True, comment="红字发票开票日期")
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_invoices_red_invoice_key"), ["red_invoice_key"]
        )
        batch_op.drop_constraint(batch_op.f("uq_invoices_ticket_no"), type_="unique")
        batch_op.create_index(batch_op.f("ix_invoices_ticket_no"), ["ticket_no"], unique=False)
    op.create_index(
        "uq_invoices_live_ticket_no",
        "invoices",
        ["ticket_no"],
        unique=True,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )


def downgrade() -> None:
    # only possible while no ticket has a withdrawn or reversed request beside its live one
    op.drop_index("uq_invoices_live_ticket_no", table_name="invoices")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_ticket_no"))
        batch_op.create_unique_constraint(batch_op.f("uq_invoices_ticket_no"), ["ticket_no"])
        batch_op.drop_constraint(batch_op.f("uq_invoices_red_invoice_key"), type_="unique")
        for column in (
            "red_issue_date",
            "red_invoice_key",
            "red_invoice_number",
            "red_invoice_code",
            "cancel_note",
            "cancel_reason",
            "cancelled_by",
            "cancelled_at",
        ):
            batch_op.drop_column(column)
