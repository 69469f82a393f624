"""Tables of the contracts database."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from aftersales_shared.db import NAMING, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


class CustomerRow(Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    contacts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    addresses: Mapped[list[dict]] = mapped_column(JSON, default=list)
    industry: Mapped[str | None] = mapped_column(String(100))
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    from_lead: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class LeadRow(Base):
    __tablename__ = "leads"

    lead_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[dict] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(30))
    need: Mapped[str] = mapped_column(Text)
    grade: Mapped[str] = mapped_column(String(1), index=True)
    follow_up_by: Mapped[date | None] = mapped_column(Date)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class RequirementRow(Base):
    """客户需求确认单."""

    __tablename__ = "requirement_forms"

    requirement_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    lines: Mapped[list[dict]] = mapped_column(JSON)
    delivery_date: Mapped[date] = mapped_column(Date)
    delivery_place: Mapped[str] = mapped_column(String(300))
    quality_standard: Mapped[str] = mapped_column(String(500))
    payment_terms: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), index=True)
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    confirmed_at: Mapped[datetime | None]
    confirmation_method: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class QuoteRow(Base):
    """报价单: Decimal amounts stored as strings in JSON lines, totals as Numeric."""

    __tablename__ = "quotes"

    quote_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    requirement_no: Mapped[str | None] = mapped_column(String(64))
    lines: Mapped[list[dict]] = mapped_column(JSON)
    instalments: Mapped[list[dict]] = mapped_column(JSON)
    list_total: Mapped[str] = mapped_column(String(20))
    net_total: Mapped[str] = mapped_column(String(20))
    max_discount_pct: Mapped[str] = mapped_column(String(10))
    lead_time_days: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100), index=True)


class ContractRow(Base):
    """One version of a contract; amendments are new rows with the same contract_no."""

    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("contract_no", "version", name="uq_contracts_no_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    is_latest: Mapped[bool] = mapped_column(Boolean, server_default="1", index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    contacts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    service_levels: Mapped[list[dict]] = mapped_column(JSON)
    terms: Mapped[dict | None] = mapped_column(JSON)
    calendar: Mapped[str] = mapped_column(String(64), default="default")
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    sales_rep: Mapped[str | None] = mapped_column(String(64), index=True)
    quote_no: Mapped[str | None] = mapped_column(String(64))
    requirement_no: Mapped[str | None] = mapped_column(String(64))
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    review_round: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None] = mapped_column(index=True)
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    archive_due_at: Mapped[datetime | None]
    archive_due_provisional: Mapped[bool | None] = mapped_column(Boolean)
    archive_overdue_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    archived_by: Mapped[str | None] = mapped_column(String(100))
    archive_items: Mapped[list[str] | None] = mapped_column(JSON)
    archive_location: Mapped[str | None] = mapped_column(String(200))
    archived_on_time: Mapped[bool | None] = mapped_column(Boolean)

    products: Mapped[list[ProductRow]] = relationship(
        back_populates="contract",
        cascade="all, delete-orphan",
        order_by="ProductRow.id",
        lazy="selectin",
    )
    signatures: Mapped[list[SignatureRow]] = relationship(
        back_populates="contract",
        cascade="all, delete-orphan",
        order_by="SignatureRow.id",
        lazy="selectin",
    )
    sign_offs: Mapped[list[SignOffRow]] = relationship(
        back_populates="contract",
        cascade="all, delete-orphan",
        order_by="SignOffRow.id",
        lazy="selectin",
    )


class ProductRow(Base):
    __tablename__ = "contract_products"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    model: Mapped[str] = mapped_column(String(100))
    serial_no: Mapped[str] = mapped_column(String(100), index=True)
    warranty_end: Mapped[date] = mapped_column(Date)
    batch_no: Mapped[str | None] = mapped_column(String(100))
    contract: Mapped[ContractRow] = relationship(back_populates="products")


class SignatureRow(Base):
    """Append-only evidence of who signed, when and how."""

    __tablename__ = "contract_signatures"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    party: Mapped[str] = mapped_column(String(20))
    signer: Mapped[str] = mapped_column(String(100))
    signed_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(20))
    contract: Mapped[ContractRow] = relationship(back_populates="signatures")


class SignOffRow(Base):
    """Append-only review decisions (合同评审表); those of an earlier round are void, not
    deleted."""

    __tablename__ = "contract_sign_offs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    review_round: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(20))
    approved: Mapped[bool] = mapped_column(Boolean)
    reviewer: Mapped[str] = mapped_column(String(100))
    comments: Mapped[str] = mapped_column(Text)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]
    contract: Mapped[ContractRow] = relationship(back_populates="sign_offs")


class OrderRow(Base):
    __tablename__ = "orders"

    order_no: Mapped[str] = mapped_column(String(80), primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(64), index=True)
    contract_version: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    lines: Mapped[list[dict]] = mapped_column(JSON)
    delivery_place: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(30), index=True)
    entered_at: Mapped[datetime] = mapped_column(index=True)
    entered_by: Mapped[str] = mapped_column(String(100))
    entry_due_at: Mapped[datetime | None]
    entered_on_time: Mapped[bool | None] = mapped_column(Boolean)
    ships_at: Mapped[datetime | None]
    notice_due_at: Mapped[datetime | None]
    notice_sent_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    receipt: Mapped[dict | None] = mapped_column(JSON)
    booking_due_at: Mapped[datetime | None]
    booking_due_provisional: Mapped[bool | None] = mapped_column(Boolean)
    booking: Mapped[dict | None] = mapped_column(JSON)
    booked_on_time: Mapped[bool | None] = mapped_column(Boolean)
    booking_overdue_at: Mapped[datetime | None]
    acceptance: Mapped[list[dict] | None] = mapped_column(JSON)

    objections: Mapped[list[ObjectionRow]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="ObjectionRow.objection_no",
        lazy="selectin",
    )
    trainings: Mapped[list[TrainingRow]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="TrainingRow.id",
        lazy="selectin",
    )


class ObjectionRow(Base):
    """A customer's objection at receipt (收货异议); answered within 2 hours."""

    __tablename__ = "order_objections"
    __table_args__ = (UniqueConstraint("order_no", "objection_no", name="uq_order_objections_no"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_no: Mapped[str] = mapped_column(ForeignKey("orders.order_no"), index=True)
    objection_no: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    answer_due_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[datetime | None]
    answered_on_time: Mapped[bool | None] = mapped_column(Boolean)
    overdue_at: Mapped[datetime | None]
    order: Mapped[OrderRow] = relationship(back_populates="objections")


class TrainingRow(Base):
    """A training session with its sign-in sheet (append-only)."""

    __tablename__ = "order_trainings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_no: Mapped[str] = mapped_column(ForeignKey("orders.order_no"), index=True)
    held_at: Mapped[datetime]
    trainer: Mapped[str] = mapped_column(String(100))
    topics: Mapped[list[str]] = mapped_column(JSON)
    attendees: Mapped[list[dict]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]
    # the follow-up call within 3 working days (培训后回访): its calls, outcome and deadline
    follow_up_due_at: Mapped[datetime | None]
    follow_up_due_provisional: Mapped[bool] = mapped_column(default=False)
    follow_up_calls: Mapped[list[dict]] = mapped_column(JSON, default=list)
    follow_up_outcome: Mapped[str | None] = mapped_column(
        String(20), comment="mastered | needs_retraining | unreachable"
    )
    follow_up_at: Mapped[datetime | None]
    follow_up_by: Mapped[str | None] = mapped_column(String(100))
    follow_up_overdue_at: Mapped[datetime | None]
    order: Mapped[OrderRow] = relationship(back_populates="trainings")


class AuditRow(Base):
    """Who changed what, when (append-only)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(30))
    entity_key: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str] = mapped_column(String(100), index=True)
    actor_roles: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(index=True)
    detail: Mapped[dict] = mapped_column(JSON)
