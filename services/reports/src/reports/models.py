"""Tables of the reports database: the analytical read model (facts fed only by events).

Each fact is keyed by what it describes (a ticket, a unit, a survey, an event), so a redelivered or
replayed event overwrites a row with the same values instead of adding one; every row remembers
the event that last wrote it. The messaging tables come from the shared messaging history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aftersales_shared.db import NAMING, UTCDateTime

Money = Numeric(14, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, Decimal: Money, date: Date}


class UnitFact(Base):
    """A unit in service (ContractSigned): the denominator of failure rates per model and batch."""

    __tablename__ = "unit_facts"

    serial_no: Mapped[str] = mapped_column(String(100), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    batch_no: Mapped[str | None] = mapped_column(
        String(100), comment="from the contract, else learned from a completed ticket"
    )
    product_line: Mapped[str | None] = mapped_column(String(100))
    contract_no: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[str | None] = mapped_column(String(100))
    dealer_id: Mapped[str | None] = mapped_column(String(64))
    in_service_from: Mapped[datetime] = mapped_column(comment="the contract's signing")
    event_id: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_unit_facts_model_batch", "model", "batch_no"),)


class TicketFact(Base):
    """One ticket as the events told it; every event fills only the columns it knows, in any
    order."""

    __tablename__ = "ticket_facts"

    ticket_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(100))
    request_type: Mapped[str | None] = mapped_column(String(50))
    urgency: Mapped[str | None] = mapped_column(String(20))
    customer_id: Mapped[str | None] = mapped_column(String(100))
    dealer_id: Mapped[str | None] = mapped_column(String(64))
    product_model: Mapped[str | None] = mapped_column(String(200))
    product_line: Mapped[str | None] = mapped_column(String(100))
    serial_no: Mapped[str | None] = mapped_column(String(100))
    batch_no: Mapped[str | None] = mapped_column(String(100))
    acknowledge_due: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None] = mapped_column(
        comment="the first acknowledgement (TicketAcknowledged): the first response per channel"
    )
    response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    first_assigned_at: Mapped[datetime | None] = mapped_column(
        comment="the response: the first assignment"
    )
    last_assigned_at: Mapped[datetime | None]
    engineer_id: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime | None]
    within_sla: Mapped[bool | None] = mapped_column(Boolean)
    symptom: Mapped[str | None] = mapped_column(String(200))
    cause_category: Mapped[str | None] = mapped_column(String(50))
    failed_part: Mapped[str | None] = mapped_column(String(200))
    needs_analysis: Mapped[bool | None] = mapped_column(Boolean)
    follow_up_of: Mapped[str | None] = mapped_column(
        String(100), comment="the ticket a low survey score reopened as this follow-up"
    )
    complaint_level: Mapped[str | None] = mapped_column(
        String(10), comment="a complaint's level as last classified (ComplaintClassified)"
    )
    complaint_type: Mapped[str | None] = mapped_column(String(30))
    complaint_classified_at: Mapped[datetime | None]
    last_event_id: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_ticket_facts_opened_at", "opened_at"),
        Index("ix_ticket_facts_completed_at", "completed_at"),
        Index(
            "ix_ticket_facts_follow_up_of",
            "follow_up_of",
            postgresql_where=text("follow_up_of IS NOT NULL"),
            sqlite_where=text("follow_up_of IS NOT NULL"),
        ),
    )


class TicketEventFact(Base):
    """An event about a ticket that is counted, not merged: SLA warnings, breaches and
    escalations, reopenings."""

    __tablename__ = "ticket_event_facts"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(
        String(30), comment="sla_warning | sla_breached | sla_escalated | reopened"
    )
    clock: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime]
    deadline: Mapped[datetime | None]
    overdue_seconds: Mapped[int | None] = mapped_column(Integer)


class SurveyFact(Base):
    """A survey answer (SurveyAnswered)."""

    __tablename__ = "survey_facts"

    survey_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(100), index=True)
    answered_at: Mapped[datetime] = mapped_column(index=True)
    efficiency: Mapped[int] = mapped_column(Integer)
    attitude: Mapped[int] = mapped_column(Integer)
    professionalism: Mapped[int] = mapped_column(Integer)
    recommend: Mapped[int | None] = mapped_column(Integer)
    low_score: Mapped[bool] = mapped_column(Boolean)
    engineer_id: Mapped[str | None] = mapped_column(String(100))
    dealer_id: Mapped[str | None] = mapped_column(String(64))
    product_model: Mapped[str | None] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(200))


class FollowUpFact(Base):
    """A call after service: a return visit (回访) or a training follow-up, recorded or overdue."""

    __tablename__ = "follow_up_facts"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(40),
        comment="return_visit_recorded | return_visit_overdue | training_recorded",
    )
    ref: Mapped[str] = mapped_column(String(100), comment="visit id or training id")
    ticket_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[str | None] = mapped_column(String(30))
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(index=True)
    dealer_id: Mapped[str | None] = mapped_column(String(64))
    engineer_id: Mapped[str | None] = mapped_column(String(100))


class CorrectiveActionFact(Base):
    """A corrective or preventive action reported overdue (CorrectiveActionOverdue)."""

    __tablename__ = "corrective_action_facts"

    action_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    action_no: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    owner_department: Mapped[str] = mapped_column(String(30))
    due_date: Mapped[date]
    overdue_at: Mapped[datetime] = mapped_column(index=True)
    cause_category: Mapped[str | None] = mapped_column(String(50))
    product_line: Mapped[str | None] = mapped_column(String(100))
    ticket_nos: Mapped[str] = mapped_column(Text, default="", comment="comma-separated")
    event_id: Mapped[str] = mapped_column(String(200))


class CorrectiveActionStepFact(Base):
    """One step of a corrective or preventive action (CorrectiveActionChanged): opened, started,
    done, verified, rejected. Append-only, keyed by the event: a redelivery writes the same row."""

    __tablename__ = "corrective_action_steps"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(100), index=True)
    action_no: Mapped[str] = mapped_column(String(100))
    change: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    owner_department: Mapped[str] = mapped_column(String(30))
    cause_category: Mapped[str | None] = mapped_column(String(50))
    product_line: Mapped[str | None] = mapped_column(String(100))


class WarrantyFact(Base):
    """A dealer's warranty (三包) event: card registered or overdue, parts return overdue,
    warranty service overdue, deduction issued."""

    __tablename__ = "warranty_facts"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    serial_no: Mapped[str | None] = mapped_column(String(100))
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    recognised: Mapped[bool | None] = mapped_column(Boolean)
    parts: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal | None]


class DealerFact(Base):
    """A dealer's name and region (DealerContactsChanged): the report's region filter."""

    __tablename__ = "dealer_facts"

    dealer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[datetime]


class PublishedReport(Base):
    """A month's report as it was published (ReportPublished): the figures kept as they were that
    day, so what product, production and sales were sent can be read again later even after late
    events changed the live figures. Each publication of a month is a new version."""

    __tablename__ = "published_reports"
    __table_args__ = (
        UniqueConstraint("month", "version", name="uq_published_reports_month_version"),
    )

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True, comment="YYYY-MM")
    version: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(20), comment="scheduled | on_demand")
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column()
    month_complete: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[str] = mapped_column(Text, comment="the report's data (JSON) as published")


class ReadModelVersion(Base):
    """One row (id 1): bumped in every transaction that changes the read model (usecases/cache)."""

    __tablename__ = "read_model_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime | None]
