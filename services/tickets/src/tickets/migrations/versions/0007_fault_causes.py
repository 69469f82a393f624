"""fault causes and corrective actions (issue 19): the fault catalogue (symptoms, failed parts per
product line) with its shipped generic entries, a completed ticket's classification, corrective and
preventive actions with their tickets, and the quality audit trail

The generic entries (product line '*', every line) let a fresh installation complete repairs at once;
the technical department adds its product lines' own entries and deactivates what it does not use.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import aftersales_shared.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = aftersales_shared.db.UTCDateTime(timezone=True)

GENERIC_SYMPTOMS = [
    ("NOISE", "异响", "abnormal noise"),
    ("LEAK", "漏油/渗漏", "oil or fluid leak"),
    ("NO_START", "无法启动", "does not start"),
    ("OVERHEAT", "过热", "overheating"),
    ("VIBRATION", "振动异常", "abnormal vibration"),
    ("DISPLAY", "显示或操作面板故障", "display or control panel fault"),
    ("ACCURACY", "精度下降", "loss of accuracy"),
    ("ALARM_STOP", "报警停机", "stops with an alarm"),
    ("DAMAGE", "外观破损", "visible damage"),
    ("OTHER", "其他", "other"),
]
GENERIC_PARTS = [
    ("MOTOR", "电机", "motor"),
    ("HYD_PUMP", "液压泵", "hydraulic pump"),
    ("SEAL", "密封件", "seal"),
    ("BEARING", "轴承", "bearing"),
    ("CONTROLLER", "控制器/操作面板", "controller or control panel"),
    ("SENSOR", "传感器", "sensor"),
    ("POWER", "电源模块", "power supply"),
    ("WIRING", "线束/接插件", "wiring or connector"),
    ("BRAKE", "制动器/抱闸", "brake"),
    ("OTHER", "其他", "other"),
]


def upgrade() -> None:
    op.create_table(
        "fault_catalogue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("product_line", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fault_catalogue")),
        sa.UniqueConstraint("kind", "code", name="uq_fault_catalogue_kind_code"),
    )
    op.create_index(
        "ix_fault_catalogue_kind_line", "fault_catalogue", ["kind", "product_line"], unique=False
    )
    op.create_table(
        "ticket_faults",
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("product_line", sa.String(length=40), nullable=True),
        sa.Column("symptom_code", sa.String(length=40), nullable=True),
        sa.Column("cause_category", sa.String(length=30), nullable=True),
        sa.Column("failed_part_code", sa.String(length=40), nullable=True),
        sa.Column("cause_detail", sa.Text(), nullable=True),
        sa.Column("needs_analysis", sa.Boolean(), nullable=False),
        sa.Column("analysis_round", sa.Integer(), nullable=False),
        sa.Column("analysis_due_at", UTC_TIME, nullable=True),
        sa.Column("analysis_overdue_at", UTC_TIME, nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.Column("classified_by", sa.String(length=100), nullable=True),
        sa.Column("classified_at", UTC_TIME, nullable=True),
        sa.Column("classified_via", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_faults_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_faults")),
    )
    for column in ("cause_category", "classified_at", "product_line"):
        op.create_index(op.f(f"ix_ticket_faults_{column}"), "ticket_faults", [column], unique=False)
    op.create_index(
        "ix_ticket_faults_needs_analysis",
        "ticket_faults",
        ["analysis_due_at"],
        unique=False,
        postgresql_where=sa.text("needs_analysis"),
        sqlite_where=sa.text("needs_analysis"),
    )
    op.create_table(
        "corrective_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("action_no", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("owner_department", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.String(length=100), nullable=True),
        sa.Column("cause_category", sa.String(length=30), nullable=True),
        sa.Column("product_line", sa.String(length=40), nullable=True),
        sa.Column("symptom_code", sa.String(length=40), nullable=True),
        sa.Column("failed_part_code", sa.String(length=40), nullable=True),
        sa.Column("calendar_id", sa.String(length=64), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("done_at", UTC_TIME, nullable=True),
        sa.Column("done_by", sa.String(length=100), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("verified_at", UTC_TIME, nullable=True),
        sa.Column("verified_by", sa.String(length=100), nullable=True),
        sa.Column("rejections", sa.Integer(), nullable=False),
        sa.Column("overdue_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrective_actions")),
        sa.UniqueConstraint("action_no", name=op.f("uq_corrective_actions_action_no")),
    )
    for column in ("cause_category", "due_at", "owner_department", "product_line", "status"):
        op.create_index(
            op.f(f"ix_corrective_actions_{column}"), "corrective_actions", [column], unique=False
        )
    op.create_table(
        "corrective_action_tickets",
        sa.Column("action_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_no", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["corrective_actions.id"],
            name=op.f("fk_corrective_action_tickets_action_id_corrective_actions"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_corrective_action_tickets_ticket_id_tickets"),
        ),
        sa.PrimaryKeyConstraint(
            "action_id", "ticket_id", name=op.f("pk_corrective_action_tickets")
        ),
    )
    op.create_index(
        op.f("ix_corrective_action_tickets_ticket_id"),
        "corrective_action_tickets",
        ["ticket_id"],
        unique=False,
    )
    op.create_table(
        "quality_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_audit")),
    )
    op.create_index(
        "ix_quality_audit_entity", "quality_audit", ["entity", "entity_id"], unique=False
    )
    _seed_generic_catalogue()


def _seed_generic_catalogue() -> None:
    table = sa.table(
        "fault_catalogue",
        *(sa.column(c) for c in ("kind", "code", "product_line", "name", "description", "active")),
        sa.column("created_at", UTC_TIME),
        sa.column("created_by"),
        sa.column("updated_at", UTC_TIME),
        sa.column("updated_by"),
    )
    now, who = datetime.now(UTC), "migration:0007"
    rows = [
        dict(
            kind=kind,
            code=code,
            product_line="*",
            name=name,
            description=f"通用 (every product line): {english}",
            active=True,
            created_at=now,
            created_by=who,
            updated_at=now,
            updated_by=who,
        )
        for kind, entries in (("symptom", GENERIC_SYMPTOMS), ("part", GENERIC_PARTS))
        for code, name, english in entries
    ]
    op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index("ix_quality_audit_entity", table_name="quality_audit")
    op.drop_table("quality_audit")
    op.drop_index(
        op.f("ix_corrective_action_tickets_ticket_id"), table_name="corrective_action_tickets"
    )
    op.drop_table("corrective_action_tickets")
    for column in ("cause_category", "due_at", "owner_department", "product_line", "status"):
        op.drop_index(op.f(f"ix_corrective_actions_{column}"), table_name="corrective_actions")
    op.drop_table("corrective_actions")
    op.drop_index("ix_ticket_faults_needs_analysis", table_name="ticket_faults")
    for column in ("cause_category", "classified_at", "product_line"):
        op.drop_index(op.f(f"ix_ticket_faults_{column}"), table_name="ticket_faults")
    op.drop_table("ticket_faults")
    op.drop_index("ix_fault_catalogue_kind_line", table_name="fault_catalogue")
    op.drop_table("fault_catalogue")
