"""published reports: each month's report as it was sent (ReportPublished), versioned

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "published_reports",
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False, comment="YYYY-MM"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False, comment="scheduled | on_demand"),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("published_at", aftersales_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("month_complete", sa.Boolean(), nullable=False),
        sa.Column(
            "report", sa.Text(), nullable=False, comment="the report's data (JSON) as published"
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_published_reports")),
        sa.UniqueConstraint("month", "version", name="uq_published_reports_month_version"),
    )
    op.create_index(op.f("ix_published_reports_month"), "published_reports", ["month"])


def downgrade() -> None:
    op.drop_table("published_reports")
