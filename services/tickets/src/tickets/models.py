"""Tables of the tickets database."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from aftersales_shared.db import NAMING, UTCDateTime
from aftersales_shared.events.base import MAX_EVENT_ID


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


class EntitlementRow(Base):
    """What a signed contract promises: learnt from ContractSigned, never from the contracts
    database."""

    __tablename__ = "entitlements"

    contract_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    contacts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    service_levels: Mapped[list[dict]] = mapped_column(JSON)
    calendar: Mapped[str] = mapped_column(String(64))
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    signed_at: Mapped[datetime]
    source_event_id: Mapped[str] = mapped_column(String(MAX_EVENT_ID))
    recorded_at: Mapped[datetime]

    units: Mapped[list[EntitledUnitRow]] = relationship(
        back_populates="entitlement",
        cascade="all, delete-orphan",
        order_by="EntitledUnitRow.serial_no",
        lazy="selectin",
    )


class EntitledUnitRow(Base):
    __tablename__ = "entitled_units"

    serial_no: Mapped[str] = mapped_column(String(100), primary_key=True)
    contract_no: Mapped[str] = mapped_column(ForeignKey("entitlements.contract_no"), index=True)
    model: Mapped[str] = mapped_column(String(100))
    warranty_end: Mapped[date] = mapped_column(Date)
    entitlement: Mapped[EntitlementRow] = relationship(back_populates="units")


class TicketCounter(Base):
    """Per-day sequence behind human-readable ticket numbers (SV-YYYYMMDD-NNNN)."""

    __tablename__ = "ticket_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


def _partial(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    return Index(
        name, *columns, unique=unique, postgresql_where=text(where), sqlite_where=text(where)
    )


def _partial_unique(name: str, *columns: str, where: str) -> Index:
    return _partial(name, *columns, where=where, unique=True)


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_opened", "status", "opened_at"),
        # sparse columns get partial indexes: a new ticket (unassigned, no partner reference, no
        # parent, no survey, SLA ok) adds no entry to them — intake writes fewer index entries,
        # lookups stay indexed
        _partial_unique(
            "uq_tickets_external_ref", "channel", "external_ref", where="external_ref IS NOT NULL"
        ),
        _partial_unique("uq_tickets_survey_id", "survey_id", where="survey_id IS NOT NULL"),
        _partial("ix_tickets_assignee_id", "assignee_id", where="assignee_id IS NOT NULL"),
        _partial(
            "ix_tickets_parent_ticket_id", "parent_ticket_id", where="parent_ticket_id IS NOT NULL"
        ),
        _partial("ix_tickets_sla_attention", "sla_state", where="sla_state <> 'ok'"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(60))
    request_type: Mapped[str] = mapped_column(String(30))
    urgency: Mapped[str] = mapped_column(
        String(10)
    )  # three values: filtered together with others, no index
    description: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # the contact's openid at the WeChat official account when the ticket came over WeChat:
    # "我的工单" lists by it, and the ticket's events carry it (Contact.wechat_openid)
    contact_wechat_openid: Mapped[str | None] = mapped_column(String(64), index=True)
    contract_no: Mapped[str | None] = mapped_column(String(64), index=True)
    product_model: Mapped[str | None] = mapped_column(String(100), index=True)
    serial_no: Mapped[str | None] = mapped_column(String(100), index=True)
    batch_no: Mapped[str | None] = mapped_column(String(100))
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    calendar_id: Mapped[str] = mapped_column(String(64))
    policy: Mapped[dict] = mapped_column(JSON)
    in_warranty: Mapped[bool | None]
    # the parts service's quotes, derived from ticket_quotes: awaiting | accepted | declined |
    # withdrawn (null: none)
    quote_state: Mapped[str | None] = mapped_column(String(20))
    assignee_id: Mapped[str | None] = mapped_column(String(100))
    assignee_kind: Mapped[str | None] = mapped_column(String(20))
    assignee_name: Mapped[str | None] = mapped_column(String(100))
    external_ref: Mapped[str | None] = mapped_column(String(100))
    parent_ticket_id: Mapped[str | None] = mapped_column(String(36))
    survey_id: Mapped[str | None] = mapped_column(String(64))
    sla_state: Mapped[str] = mapped_column(String(10), default="ok")  # ok | warning | breached
    opened_at: Mapped[datetime] = mapped_column(index=True)
    opened_by: Mapped[str] = mapped_column(String(300))  # "partner:" + the event's ce-source
    acknowledged_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    onsite_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)

    clocks: Mapped[list[ClockRow]] = relationship(
        back_populates="ticket",
        cascade="all, delete-orphan",
        order_by="ClockRow.id",
        lazy="selectin",
    )


class ClockRow(Base):
    """One SLA clock of a ticket; its one pending scheduled job (warning, then breach) is keyed by
    the clock id."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", name="uq_sla_clocks_ticket_kind"),
        # the board: nearest running deadlines first (usecases/search.py)
        Index(
            "ix_sla_clocks_running_deadline",
            "deadline",
            postgresql_where=text("state = 'running'"),
            sqlite_where=text("state = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("tickets.id")
    )  # indexed by uq_sla_clocks_ticket_kind
    kind: Mapped[str] = mapped_column(String(20))
    target_seconds: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime]
    elapsed_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    running_since: Mapped[datetime | None]
    deadline: Mapped[datetime | None]
    provisional: Mapped[bool] = mapped_column(default=False)
    met_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    ticket: Mapped[TicketRow] = relationship(back_populates="clocks")


class ProgressRow(Base):
    """Append-only progress log: the evidence in disputes."""

    __tablename__ = "progress_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10))  # internal | customer
    parts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    fee_kind: Mapped[str | None] = mapped_column(String(20))
    fee_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))


class CompletionRow(Base):
    """The customer's confirmation (维修服务单 / 投诉处理确认书): who, when, how."""

    __tablename__ = "completions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    document: Mapped[str] = mapped_column(String(30))
    confirmed_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(20))
    remarks: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]


class LoanerRow(Base):
    __tablename__ = "loaner_units"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    serial_no: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    provided_at: Mapped[datetime]
    provided_by: Mapped[str] = mapped_column(String(100))
    returned_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)


class AssignmentRow(Base):
    """History of dispatch and reassignment (append-only)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    assignee_id: Mapped[str] = mapped_column(String(100))
    assignee_kind: Mapped[str] = mapped_column(String(20))
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)


class EngineerRow(Base):
    """An engineer dispatch may choose (the roster supervisors keep, issue #21): `id` is the IdP
    subject their token carries, which is what an assignment stores. Deactivated, never deleted
    (tickets keep naming them); on leave (until a day in the business time zone, inclusive) they
    are not offered, and what they hold stays theirs."""

    __tablename__ = "engineers"
    __table_args__ = (Index("ix_engineers_active_region", "active", "region"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    on_leave: Mapped[bool] = mapped_column(default=False)
    leave_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


class CalendarRow(Base):
    """A working-time calendar: zone, business hours, 24×7 flag (closures in calendar_days)."""

    __tablename__ = "calendars"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    always_open: Mapped[bool] = mapped_column(default=False)
    hours: Mapped[list[dict]] = mapped_column(JSON)
    workday_hours: Mapped[list[dict]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


class CalendarDayRow(Base):
    """A holiday or make-up workday: calendar_id NULL for the national table, else a company
    closure."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("scope", "day", name="uq_calendar_days_scope_day"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64), comment="'national' or a calendar id")
    year: Mapped[int] = mapped_column(Integer, index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))


class CalendarYearRow(Base):
    """Which (scope, year) tables were imported: a national year listed here is official, not
    provisional."""

    __tablename__ = "calendar_years"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(100))
    entries: Mapped[int] = mapped_column(Integer)


class CalendarAuditRow(Base):
    __tablename__ = "calendar_audit"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))
    year: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    detail: Mapped[dict] = mapped_column(JSON)


# ---------------------------------------------------------- fault causes, corrective actions
class FaultCatalogueRow(Base):
    """A fault symptom or failed part of a product line ('*': every line); deactivated, never
    deleted (tickets keep naming it)."""

    __tablename__ = "fault_catalogue"
    __table_args__ = (
        UniqueConstraint("kind", "code", name="uq_fault_catalogue_kind_code"),
        Index("ix_fault_catalogue_kind_line", "kind", "product_line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))  # symptom | part
    code: Mapped[str] = mapped_column(String(40))
    product_line: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


class TicketFaultRow(Base):
    """A completed ticket's fault classification: symptom, cause category, failed part — or the
    cause left to the technical department's analysis (needs_analysis, with its deadline)."""

    __tablename__ = "ticket_faults"
    __table_args__ = (
        _partial("ix_ticket_faults_needs_analysis", "analysis_due_at", where="needs_analysis"),
    )

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    product_line: Mapped[str | None] = mapped_column(String(40), index=True)
    symptom_code: Mapped[str | None] = mapped_column(String(40))
    cause_category: Mapped[str | None] = mapped_column(String(30), index=True)
    failed_part_code: Mapped[str | None] = mapped_column(String(40))
    cause_detail: Mapped[str | None] = mapped_column(Text)
    needs_analysis: Mapped[bool] = mapped_column(default=False)
    analysis_round: Mapped[int] = mapped_column(Integer, default=0)
    analysis_due_at: Mapped[datetime | None]
    analysis_overdue_at: Mapped[datetime | None]
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]
    classified_by: Mapped[str | None] = mapped_column(String(100))
    classified_at: Mapped[datetime | None] = mapped_column(index=True)
    classified_via: Mapped[str | None] = mapped_column(String(20))  # completion | analysis


class CorrectiveActionRow(Base):
    """A corrective or preventive action (纠正/预防措施): owner department, due date on a calendar,
    open → in_progress → done → verified (a rejection sends it back to in_progress)."""

    __tablename__ = "corrective_actions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    action_no: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # corrective | preventive
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    owner_department: Mapped[str] = mapped_column(String(20), index=True)
    owner_id: Mapped[str | None] = mapped_column(String(100))
    cause_category: Mapped[str | None] = mapped_column(String(30), index=True)
    product_line: Mapped[str | None] = mapped_column(String(40), index=True)
    symptom_code: Mapped[str | None] = mapped_column(String(40))
    failed_part_code: Mapped[str | None] = mapped_column(String(40))
    calendar_id: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(100))
    rejections: Mapped[int] = mapped_column(Integer, default=0)
    overdue_at: Mapped[datetime | None]

    tickets: Mapped[list[CorrectiveActionTicketRow]] = relationship(
        cascade="all, delete-orphan",
        order_by="CorrectiveActionTicketRow.ticket_no",
        lazy="selectin",
    )


class CorrectiveActionTicketRow(Base):
    __tablename__ = "corrective_action_tickets"
    __table_args__ = (PrimaryKeyConstraint("action_id", "ticket_id"),)

    action_id: Mapped[str] = mapped_column(ForeignKey("corrective_actions.id"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    ticket_no: Mapped[str] = mapped_column(String(32))


class QualityAuditRow(Base):
    """Who changed the fault catalogue, a ticket's classification, a corrective action or the
    engineer roster (append-only)."""

    __tablename__ = "quality_audit"
    __table_args__ = (Index("ix_quality_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # symptom | part | fault | corrective_action | engineer
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    detail: Mapped[dict] = mapped_column(JSON)


# ------------------------------------------------------------------ knowledge base (issue 19)
class KnowledgeArticleRow(Base):
    """A solution article made from a completed ticket: the working copy and where it stands in
    review (draft → submitted → approved | returned). Readers see only its published revision."""

    __tablename__ = "knowledge_articles"
    __table_args__ = (Index("ix_knowledge_articles_status", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source_ticket_no: Mapped[str] = mapped_column(String(32), unique=True)
    source_ticket_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(12))
    revision: Mapped[int] = mapped_column(Integer)
    published_revision: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    symptom: Mapped[str] = mapped_column(Text)
    cause_category: Mapped[str | None] = mapped_column(String(60))
    cause: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[list[str]] = mapped_column(JSON)
    parts: Mapped[list[dict]] = mapped_column(JSON)
    product_model: Mapped[str | None] = mapped_column(String(100))
    product_line: Mapped[str | None] = mapped_column(String(100))
    author: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)


# TEXT on SQLite, where the terms live in the FTS5 table knowledge_fts (made by migration 0008)
SearchVector = Text().with_variant(TSVECTOR(), "postgresql")


class KnowledgePublishedRow(Base):
    """The approved revision of an article: what search finds and readers see (one row per
    article, replaced when a new revision is approved)."""

    __tablename__ = "knowledge_published"
    __table_args__ = (
        Index("ix_knowledge_published_search", "search_vector", postgresql_using="gin"),
    )

    article_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_articles.id"), primary_key=True, autoincrement=False
    )
    revision: Mapped[int] = mapped_column(Integer)
    source_ticket_no: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    symptom: Mapped[str] = mapped_column(Text)
    cause_category: Mapped[str | None] = mapped_column(String(60), index=True)
    cause: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[list[str]] = mapped_column(JSON)
    parts: Mapped[list[dict]] = mapped_column(JSON)
    product_model: Mapped[str | None] = mapped_column(String(100), index=True)
    product_line: Mapped[str | None] = mapped_column(String(100), index=True)
    approved_by: Mapped[str] = mapped_column(String(100))
    approved_at: Mapped[datetime]
    search_vector: Mapped[str | None] = mapped_column(SearchVector)


class KnowledgeRevisionRow(Base):
    """Append-only history of an article: every step (created, edited, submitted, approved,
    returned, withdrawn) with who, when, the comment and the content as it was."""

    __tablename__ = "knowledge_revisions"
    __table_args__ = (Index("ix_knowledge_revisions_article", "article_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id"))
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    actor_roles: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime]
    comment: Mapped[str | None] = mapped_column(Text)
    content: Mapped[dict] = mapped_column(JSON)


# ---------------------------------------------------------------- complaints (投诉处理)
class ComplaintRow(Base):
    """The complaint process of a complaint ticket: level, owner (a supervisor, never nobody), the
    stage it waits for, the round (a rejected proposal starts the next), what was told and found."""

    __tablename__ = "complaints"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(32), unique=True)
    level: Mapped[str] = mapped_column(String(10), index=True)  # general | major | serious
    complaint_type: Mapped[str | None] = mapped_column(String(30))  # events.ComplaintType
    stage: Mapped[str] = mapped_column(String(20), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    owner_id: Mapped[str] = mapped_column(String(100), index=True)
    management: Mapped[bool] = mapped_column(default=False)  # a serious one rejected again
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime]
    round_started_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    promised_date: Mapped[date | None] = mapped_column(Date)
    limit_told_at: Mapped[datetime | None]
    limit_told_by: Mapped[str | None] = mapped_column(String(100))
    limit_told_via: Mapped[str | None] = mapped_column(String(20))
    findings: Mapped[str | None] = mapped_column(Text)
    investigated_at: Mapped[datetime | None]
    investigated_by: Mapped[str | None] = mapped_column(String(100))
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    ticket: Mapped[TicketRow] = relationship(lazy="joined", innerjoin=True)
    clocks: Mapped[list[ComplaintClockRow]] = relationship(
        cascade="all, delete-orphan",
        order_by="ComplaintClockRow.id",
        lazy="selectin",
    )
    proposals: Mapped[list[ComplaintProposalRow]] = relationship(
        cascade="all, delete-orphan",
        order_by="ComplaintProposalRow.id",
        lazy="selectin",
    )


class ComplaintClockRow(Base):
    """One step's deadline in one round; its scheduled job is keyed "<ticket id>:<round>:<stage>"
    and announces a miss once (overdue_at)."""

    __tablename__ = "complaint_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "round", "stage", name="uq_complaint_clocks_step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("complaints.ticket_id"))
    round: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime]
    met_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]


class ComplaintProposalRow(Base):
    """A proposed resolution and the customer's answer to it — the 投诉处理确认书: accepted or
    rejected (with the reason), by whom, when and how (the link, or recorded by staff). The link's
    token is kept only as its hash and works once."""

    __tablename__ = "complaint_proposals"
    __table_args__ = (
        _partial_unique(
            "uq_complaint_proposals_token", "token_hash", where="token_hash IS NOT NULL"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("complaints.ticket_id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(10))
    resolution: Mapped[str] = mapped_column(Text)
    proposed_at: Mapped[datetime]
    proposed_by: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str | None] = mapped_column(String(64))
    link_masked: Mapped[str | None] = mapped_column(String(300))
    expires_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(10))  # accepted | rejected
    answered_at: Mapped[datetime | None]
    method: Mapped[str | None] = mapped_column(String(20))  # link | phone | signature | onsite
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    remarks: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(100))


class TrackingLinkRow(Base):
    """The customer's tracking link of a ticket (/t/<token>, issue 22): only the SHA-256 of the
    token is kept; the token itself is shown once, on the page that opened the ticket."""

    __tablename__ = "tracking_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    created_at: Mapped[datetime]


class WebFormChallengeRow(Base):
    """A proof-of-work challenge of the public web form that was answered: each works once. Rows
    are useless once the challenge would be refused as expired (`expires_at`) and are purged."""

    __tablename__ = "webform_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WebFormRateRow(Base):
    """Requests of the public web form per key (SHA-256 of "phone:…" or "ip:…") and fixed window:
    one upserted row per key and window, so the count holds across replicas."""

    __tablename__ = "webform_rates"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer)


class WeChatDialogueRow(Base):
    """Where a WeChat user's repair dialogue stands (one per openid): the step it waits for, the
    answers so far; gone when the ticket is opened or the user cancels, stale after `expires_at`."""

    __tablename__ = "wechat_dialogues"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WeChatMessageRow(Base):
    """A pushed WeChat message already answered (key: MsgId, or FromUserName:CreateTime for an
    event) with the reply it got: the platform's retries get the same reply and change nothing."""

    __tablename__ = "wechat_messages"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    reply: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class MailMessageRow(Base):
    """Every e-mail of the service mailbox by its Message-ID (issue 22 item 2): an inbound one with
    what became of it (a ticket opened, a progress entry, the asking reply, dropped and why), an
    outbound one with its ticket — a reply naming any of a ticket's messages joins that ticket, and
    a message seen again changes nothing."""

    __tablename__ = "mail_messages"

    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    sender: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(20))  # opened | progress | asked | dropped | sent
    reason: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(index=True)


class MailOutgoingRow(Base):
    """An e-mail the service sends (the confirmation, the request for a contract or serial number),
    written in the transaction of what caused it and sent to the relay afterwards, until it is
    accepted."""

    __tablename__ = "mail_outgoing"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    mail_from: Mapped[str] = mapped_column(String(254))
    rcpt_to: Mapped[str] = mapped_column(String(254))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    next_try_at: Mapped[datetime | None] = mapped_column(index=True)  # None: sent or given up
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class AttachmentRow(Base):
    """A file kept with a ticket (an e-mail's attachment): its bytes in the file storage under
    `storage_key`, the progress entry it came with."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    progress_id: Mapped[int | None] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(400), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))  # email
    created_at: Mapped[datetime]


class ServiceSheetRow(Base):
    """A frozen 维修服务单 (issue 22 item 4): the canonical JSON of what the customer is asked to
    sign, its SHA-256 and the hash of the one link that opens it. Never updated: freezing again
    before the signature supersedes it by a newer row (only the newest link signs)."""

    __tablename__ = "service_sheets"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    document: Mapped[str] = mapped_column(String(30))
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    frozen_by: Mapped[str] = mapped_column(String(100))
    frozen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ServiceSheetSignatureRow(Base):
    """The customer's signature of a sheet: one per sheet (its key), written once, never changed —
    the evidence of the sign-off (the PNG drawn with a finger, the name, the time, the hash of the
    content that was shown)."""

    __tablename__ = "service_sheet_signatures"

    sheet_id: Mapped[int] = mapped_column(ForeignKey("service_sheets.id"), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    signer_name: Mapped[str] = mapped_column(String(100))
    score: Mapped[int | None]
    signed_at: Mapped[datetime]
    content_sha256: Mapped[str] = mapped_column(String(64))
    image: Mapped[bytes] = mapped_column(LargeBinary)
    image_sha256: Mapped[str] = mapped_column(String(64))


class ComplaintSignatureRow(Base):
    """The customer's finger signature on a 投诉处理确认书 answered on the page (/c/<token>): the
    canonical JSON of what was confirmed (the complaint, the proposal, the answer), its SHA-256 and
    the PNG. Written once with the answer, never changed."""

    __tablename__ = "complaint_signatures"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("complaint_proposals.id"), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    signer_name: Mapped[str] = mapped_column(String(100))
    signed_at: Mapped[datetime]
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    image: Mapped[bytes] = mapped_column(LargeBinary)
    image_sha256: Mapped[str] = mapped_column(String(64))


class TicketQuoteRow(Base):
    """What tickets knows of each of the parts service's quotes on a ticket: its latest known state
    (awaiting, then accepted | declined | withdrawn, which nothing changes back) and the quote's
    own time of it. The events of one quote arrive on separate consumers in any order; the
    ticket's `quote_state` is computed from these rows, never from the order of arrival."""

    __tablename__ = "ticket_quotes"

    quote_no: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]


class TicketPartUsedRow(Base):
    """A part the parts service issued to a ticket (PartIssued, quantity > 0) or took back unused
    (PartReturned, quantity < 0), at the price of the issue: what the service sheet prices. One row
    per movement of the parts ledger."""

    __tablename__ = "ticket_parts_used"

    movement_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(100), index=True)
    part_no: Mapped[str] = mapped_column(String(40))
    part_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    at: Mapped[datetime]
