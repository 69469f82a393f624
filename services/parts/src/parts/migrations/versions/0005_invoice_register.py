"""invoice register: the issued invoice's number and date on the request, who registered it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), server_default="requested", nullable=False)
        )
        batch_op.add_column(
            sa.Column("invoice_code", sa.String(length=12), nullable=True, comment="纸质发票代码")
        )
        batch_op.add_column(
            sa.Column("invoice_number", sa.String(length=20), nullable=True, comment="发票号码")
        )
        batch_op.add_column(
            sa.Column(
                "invoice_key",
                sa.String(length=40),
                nullable=True,
                comment="code-number, or the 20-digit 数电 number",
            )
        )
        batch_op.add_column(
            sa.Column(
                "issue_date", sa.Date(), nullable=True, comment="开票日期 (business time zone)"
            )
        )
        batch_op.add_column(
            sa.Column(
                "issued_at",
                aftersales_shared.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="when it was registered",
            )
        )
        batch_op.add_column(sa.Column("issued_by", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_invoices_invoice_key"), ["invoice_key"])
        batch_op.create_index(batch_op.f("ix_invoices_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invoices_requested_at"), ["requested_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_requested_at"))
        batch_op.drop_index(batch_op.f("ix_invoices_status"))
        batch_op.drop_constraint(batch_op.f("uq_invoices_invoice_key"), type_="unique")
        for column in (
            "issued_by",
            "issued_at",
            "issue_date",
            "invoice_key",
            "invoice_number",
            "invoice_code",
            "status",
        ):
            batch_op.drop_column(column)
