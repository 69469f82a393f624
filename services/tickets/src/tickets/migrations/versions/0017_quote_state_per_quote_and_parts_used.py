"""the quote state per quote (ticket_quotes): QuoteIssued and QuoteWithdrawn/Accepted/Declined
arrive on separate consumers in any order; a late QuoteIssued must not undo a decision. And the
parts issued to and returned from a ticket with their prices (ticket_parts_used, from PartIssued and
PartReturned) for the service sheet

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_quotes",
        sa.Column("quote_no", sa.String(length=100), nullable=False),
        sa.Column("ticket_no", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("quote_no", name=op.f("pk_ticket_quotes")),
    )
    with op.batch_alter_table("ticket_quotes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_quotes_ticket_no"), ["ticket_no"], unique=False)
    op.create_table(
        "ticket_parts_used",
        sa.Column("movement_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_no", sa.String(length=100), nullable=False),
        sa.Column("part_no", sa.String(length=40), nullable=False),
        sa.Column("part_name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("movement_id", name=op.f("pk_ticket_parts_used")),
    )
    with op.batch_alter_table("ticket_parts_used", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_parts_used_ticket_no"), ["ticket_no"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_parts_used", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_parts_used_ticket_no"))
    op.drop_table("ticket_parts_used")
    with op.batch_alter_table("ticket_quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_quotes_ticket_no"))
    op.drop_table("ticket_quotes")
