"""return visits: an index on engineer_id (the console lists an engineer's visits)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_return_visits_engineer_id"), "return_visits", ["engineer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_return_visits_engineer_id"), table_name="return_visits")
