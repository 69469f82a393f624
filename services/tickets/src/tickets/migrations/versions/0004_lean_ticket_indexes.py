"""lean ticket indexes: partial indexes on sparse columns, none on urgency, no duplicate on sla_clocks.ticket_id

Every ticket intake writes one entry into each index of `tickets` and `sla_clocks`. A new ticket is
unassigned, has no partner reference, parent or survey, and its SLA state is ok: partial indexes on those
columns keep such tickets out of them (lookups by a value still use them). `urgency` has three values and
is always filtered together with others; `sla_clocks.ticket_id` is the leading column of
uq_sla_clocks_ticket_kind already.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = [  # name, columns, predicate, unique
    ("uq_tickets_external_ref", ["channel", "external_ref"], "external_ref IS NOT NULL", True),
    ("uq_tickets_survey_id", ["survey_id"], "survey_id IS NOT NULL", True),
    ("ix_tickets_assignee_id", ["assignee_id"], "assignee_id IS NOT NULL", False),
    ("ix_tickets_parent_ticket_id", ["parent_ticket_id"], "parent_ticket_id IS NOT NULL", False),
    ("ix_tickets_sla_attention", ["sla_state"], "sla_state <> 'ok'", False),
]


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint("uq_tickets_external_ref", type_="unique")
        batch_op.drop_constraint("uq_tickets_survey_id", type_="unique")
        batch_op.drop_index("ix_tickets_assignee_id")
        batch_op.drop_index("ix_tickets_parent_ticket_id")
        batch_op.drop_index("ix_tickets_sla_state")
        batch_op.drop_index("ix_tickets_urgency")
    for name, columns, where, unique in PARTIAL:
        op.create_index(
            name,
            "tickets",
            columns,
            unique=unique,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_ticket_id")


def downgrade() -> None:
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index("ix_sla_clocks_ticket_id", ["ticket_id"], unique=False)
    for name, _, _, _ in reversed(PARTIAL):
        op.drop_index(name, table_name="tickets")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_urgency", ["urgency"], unique=False)
        batch_op.create_index("ix_tickets_sla_state", ["sla_state"], unique=False)
        batch_op.create_index("ix_tickets_parent_ticket_id", ["parent_ticket_id"], unique=False)
        batch_op.create_index("ix_tickets_assignee_id", ["assignee_id"], unique=False)
        batch_op.create_unique_constraint("uq_tickets_survey_id", ["survey_id"])
        batch_op.create_unique_constraint("uq_tickets_external_ref", ["channel", "external_ref"])
