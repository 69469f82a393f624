"""Tables of the surveys database (the messaging tables are shared)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from aftersales_shared.db import NAMING, UTCDateTime
from aftersales_shared.events.base import MAX_EVENT_ID


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


class SurveyRow(Base):
    """One invitation per completed ticket, with the ticket attributes the figures group by."""

    __tablename__ = "surveys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_no: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_key: Mapped[str | None] = mapped_column(String(200))
    customer_name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[dict] = mapped_column(JSON)
    engineer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    product_model: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(50))
    request_type: Mapped[str | None] = mapped_column(String(50))
    completed_at: Mapped[datetime]
    completed_month: Mapped[str] = mapped_column(
        String(7), index=True, comment="YYYY-MM, business time zone"
    )
    status: Mapped[str] = mapped_column(String(20), index=True)
    skip_reason: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    token_hash: Mapped[str | None] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the link token"
    )
    invited_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    source_event_id: Mapped[str] = mapped_column(String(MAX_EVENT_ID))

    answer: Mapped[AnswerRow | None] = relationship(
        back_populates="survey", lazy="selectin", uselist=False
    )


class AnswerRow(Base):
    """Append-only evidence: exactly one answer per survey (unique), never updated or deleted."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        CheckConstraint("efficiency BETWEEN 1 AND 5", name="efficiency_range"),
        CheckConstraint("attitude BETWEEN 1 AND 5", name="attitude_range"),
        CheckConstraint("professionalism BETWEEN 1 AND 5", name="professionalism_range"),
        CheckConstraint("recommend IS NULL OR recommend BETWEEN 0 AND 10", name="recommend_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"), unique=True)
    efficiency: Mapped[int] = mapped_column(SmallInteger)
    attitude: Mapped[int] = mapped_column(SmallInteger)
    professionalism: Mapped[int] = mapped_column(SmallInteger)
    recommend: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    low_score: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(10), comment="web | phone")
    recorded_by: Mapped[str | None] = mapped_column(
        String(100), comment="agent who recorded a phone answer"
    )
    respondent: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime]

    survey: Mapped[SurveyRow] = relationship(back_populates="answer")


class CustomerMarkRow(Base):
    """When a customer was last surveyed: one row per customer, locked while deciding the quiet
    period."""

    __tablename__ = "survey_customers"

    customer_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_completed_at: Mapped[datetime | None]
    last_survey_id: Mapped[str | None] = mapped_column(String(36))


class ReturnVisitRow(Base):
    """One return visit (回访) per completed ticket that gets one; its calls kept in `calls`."""

    __tablename__ = "return_visits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_no: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(
        String(20), index=True, comment="critical|complaint|sampled"
    )
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[dict] = mapped_column(JSON)
    engineer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    product_model: Mapped[str | None] = mapped_column(String(100))
    request_type: Mapped[str | None] = mapped_column(String(50))
    urgency: Mapped[str | None] = mapped_column(String(20))
    completed_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), index=True, comment="open|done|unreachable")
    calls: Mapped[list] = mapped_column(JSON, comment="[{at, by, outcome, note}] oldest first")
    outcome: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    overdue_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    source_event_id: Mapped[str] = mapped_column(String(MAX_EVENT_ID))
