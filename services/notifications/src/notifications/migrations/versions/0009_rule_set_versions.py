"""notification rules as data: every saved version of the rule set (the packaged rules.yaml is
version 1, written at the first start)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = aftersales_shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rule_set_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False, comment="the rules document as validated"),
        sa.Column(
            "action",
            sa.String(length=20),
            nullable=False,
            comment="seed, save, rule_saved, rule_removed, switched, restore, defaults",
        ),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("rules_added", sa.Integer(), nullable=False),
        sa.Column("rules_changed", sa.Integer(), nullable=False),
        sa.Column("rules_removed", sa.Integer(), nullable=False),
        sa.Column("saved_by", sa.String(length=100), nullable=False),
        sa.Column("saved_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_rule_set_versions")),
    )


def downgrade() -> None:
    op.drop_table("rule_set_versions")
