"""event ids as wide as the envelope allows (MAX_EVENT_ID): a long ce-id is kept whole, never cut to 64

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from aftersales_shared.migrations import widen_event_id_columns

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDTH, BEFORE = 200, 64  # = MAX_EVENT_ID when this was written
EXTRA = [("surveys", "source_event_id", False)]


def upgrade() -> None:
    widen_event_id_columns(EXTRA, to=WIDTH, old=BEFORE)


def downgrade() -> None:
    widen_event_id_columns(EXTRA, to=BEFORE, old=WIDTH)
