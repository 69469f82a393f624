"""Tables of the dealers database. Every business row carries dealer_id: the key of dealer
isolation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from aftersales_shared.db import NAMING, UTCDateTime

Money = Numeric(14, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, Decimal: Money, date: Date}


class DealerRow(Base):
    """A dealer with its regional agency agreement (区域代理协议)."""

    __tablename__ = "dealers"

    dealer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100))
    agreement_no: Mapped[str] = mapped_column(String(64))
    agreement_start: Mapped[date]
    agreement_end: Mapped[date]
    contacts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    grade: Mapped[str] = mapped_column(String(2))
    calendar_id: Mapped[str] = mapped_column(String(64), default="default")
    return_mode: Mapped[str] = mapped_column(
        String(20), default="fixed_dates", comment="fixed_dates | truck"
    )
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class GradeChangeRow(Base):
    """Grade history (append-only): the initial grade, confirmed demotions and manual changes."""

    __tablename__ = "grade_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    from_grade: Mapped[str | None] = mapped_column(String(2))
    to_grade: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(Text)
    review_id: Mapped[str | None] = mapped_column(String(36))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime]


class GradeReviewRow(Base):
    """A demotion proposed from measured service; a manager confirms or rejects it."""

    __tablename__ = "grade_reviews"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    window_start: Mapped[date]
    window_end: Mapped[date]
    measures: Mapped[dict] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    current_grade: Mapped[str] = mapped_column(String(2))
    proposed_grade: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20), comment="proposed | confirmed | rejected")
    proposed_by: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)


class MeasurementRow(Base):
    """One measured fact about a dealer's service (late card, SLA breach, survey score…), once per
    source."""

    __tablename__ = "dealer_measurements"
    __table_args__ = (
        UniqueConstraint("dealer_id", "kind", "ref", name="uq_dealer_measurements_fact"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    detail: Mapped[str | None] = mapped_column(Text)


class SoldUnitRow(Base):
    """A unit sold through a dealer (from ContractSigned or registered by the dealer)."""

    __tablename__ = "sold_units"

    serial_no: Mapped[str] = mapped_column(String(100), primary_key=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(100))
    sale_date: Mapped[date]
    warranty_end: Mapped[date | None]
    customer_name: Mapped[str] = mapped_column(String(200))
    contract_no: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20), comment="contract | dealer")
    card_due: Mapped[date]
    card_status: Mapped[str] = mapped_column(String(20), comment="pending | registered | overdue")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class WarrantyCardRow(Base):
    """三包回执卡: kept even when late; recognition and any manager override are recorded."""

    __tablename__ = "warranty_cards"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    serial_no: Mapped[str] = mapped_column(String(100), unique=True)
    model: Mapped[str] = mapped_column(String(100))
    sale_date: Mapped[date]
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    customer_address: Mapped[str | None] = mapped_column(String(300))
    registered_at: Mapped[datetime]
    registered_by: Mapped[str] = mapped_column(String(100))
    day: Mapped[int]
    on_time: Mapped[bool] = mapped_column(Boolean)
    warranty_recognised: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(100))
    override_note: Mapped[str | None] = mapped_column(Text)
    override_at: Mapped[datetime | None]


class RepairRecordRow(Base):
    """三包维修记录 (or a paid service record when out of warranty)."""

    __tablename__ = "repair_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_no: Mapped[str] = mapped_column(String(40), unique=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    serial_no: Mapped[str] = mapped_column(String(100), index=True)
    model: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), comment="warranty | paid")
    ticket_no: Mapped[str | None] = mapped_column(String(64), index=True)
    fault_description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), comment="requested | arranged | completed")
    requested_at: Mapped[datetime]
    arrange_due: Mapped[datetime]
    arrange_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    arranged_at: Mapped[datetime | None]
    arranged_late: Mapped[bool | None] = mapped_column(Boolean)
    engineer: Mapped[str | None] = mapped_column(String(100))
    appointment_at: Mapped[datetime | None]
    reported_to_technical: Mapped[bool] = mapped_column(Boolean, default=False)
    repair_description: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    confirmed_at: Mapped[datetime | None]
    confirmation_method: Mapped[str | None] = mapped_column(String(20))
    parts_cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    labour_fee: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    travel_fee: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    claim_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    customer_charge: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    claim_status: Mapped[str] = mapped_column(String(20), index=True)
    claim_reason: Mapped[str | None] = mapped_column(Text)
    claim_decided_at: Mapped[datetime | None]
    open_notice_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))

    parts: Mapped[list[RepairPartRow]] = relationship(
        back_populates="record",
        order_by="RepairPartRow.id",
        lazy="selectin",
        cascade="all, delete-orphan",
    )


class RepairPartRow(Base):
    """A part replaced in a repair; under warranty the old part is owed back by a deadline."""

    __tablename__ = "repair_parts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("repair_records.id"), index=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    part_no: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[Decimal]
    line_cost: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))
    return_due: Mapped[date | None]
    shipment_id: Mapped[str | None] = mapped_column(String(36), index=True)
    received_at: Mapped[datetime | None]
    verdict: Mapped[str | None] = mapped_column(String(30))
    verdict_reason: Mapped[str | None] = mapped_column(Text)
    inspected_by: Mapped[str | None] = mapped_column(String(100))
    inspected_at: Mapped[datetime | None]

    record: Mapped[RepairRecordRow] = relationship(back_populates="parts")

    __table_args__ = (Index("ix_repair_parts_return", "dealer_id", "status", "return_due"),)


class TruckVisitRow(Base):
    """A delivery truck calling at a dealer: old parts may go back with it."""

    __tablename__ = "truck_visits"
    __table_args__ = (
        UniqueConstraint("dealer_id", "visit_date", name="uq_truck_visits_dealer_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    visit_date: Mapped[date]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class ShipmentRow(Base):
    """Old parts sent back, with the repair records they cover."""

    __tablename__ = "part_shipments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    shipment_no: Mapped[str] = mapped_column(String(40), unique=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    record_ids: Mapped[list[str]] = mapped_column(JSON)
    carrier: Mapped[str | None] = mapped_column(String(100))
    truck_ref: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(100))


class StockEntryRow(Base):
    """Inspected old parts entering the reusable store or the scrap store (separate records)."""

    __tablename__ = "stock_entries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    store: Mapped[str] = mapped_column(String(20), index=True, comment="reusable | scrap")
    part_id: Mapped[int] = mapped_column(ForeignKey("repair_parts.id"), unique=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    part_no: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    record_no: Mapped[str] = mapped_column(String(40))
    entered_at: Mapped[datetime]
    entered_by: Mapped[str] = mapped_column(String(100))


class DeductionNoticeRow(Base):
    """三包费用核销通知: issued by finance, confirmed or disputed by the dealer line by line."""

    __tablename__ = "deduction_notices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    notice_no: Mapped[str] = mapped_column(String(64), unique=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[str] = mapped_column(String(20))
    total: Mapped[Decimal]
    confirmed_amount: Mapped[Decimal | None]
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(100))

    lines: Mapped[list[DeductionLineRow]] = relationship(
        back_populates="notice",
        order_by="DeductionLineRow.id",
        lazy="selectin",
        cascade="all, delete-orphan",
    )


class DeductionLineRow(Base):
    __tablename__ = "deduction_lines"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("deduction_notices.id"), index=True)
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    record_no: Mapped[str] = mapped_column(String(40))
    serial_no: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal]
    decision: Mapped[str] = mapped_column(String(20))
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[datetime | None]

    notice: Mapped[DeductionNoticeRow] = relationship(back_populates="lines")


class ClaimPaymentRow(Base):
    """A claim paid through a confirmed notice: the primary key makes a second payment
    impossible."""

    __tablename__ = "claim_payments"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(36), index=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal]
    paid_at: Mapped[datetime]


class SeasonRow(Base):
    """A selling season: stocking plans are due 30 days before it starts."""

    __tablename__ = "seasons"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date]
    plan_due: Mapped[date]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class StockingPlanRow(Base):
    __tablename__ = "stocking_plans"
    __table_args__ = (
        UniqueConstraint("dealer_id", "season_code", name="uq_stocking_plans_dealer_season"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dealer_id: Mapped[str] = mapped_column(String(64), index=True)
    season_code: Mapped[str] = mapped_column(String(40))
    lines: Mapped[list[dict]] = mapped_column(JSON)
    submitted_at: Mapped[datetime]
    submitted_by: Mapped[str] = mapped_column(String(100))
    due: Mapped[date]
    on_time: Mapped[bool] = mapped_column(Boolean)


class UnitConflictRow(Base):
    """A serial a dealer registered itself that a signed contract sells through another dealer: the
    contract's dealer owns the unit from then on; a manager looks at the registration and closes the
    conflict."""

    __tablename__ = "unit_conflicts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    serial_no: Mapped[str] = mapped_column(String(100), index=True)
    registered_by_dealer: Mapped[str] = mapped_column(String(64), index=True)
    contract_dealer: Mapped[str] = mapped_column(String(64), index=True)
    contract_no: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), comment="open | resolved")
    resolution: Mapped[str | None] = mapped_column(
        String(30), comment="contract_confirmed | registration_was_wrong"
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))


class AuditRow(Base):
    """Who changed what, when (append-only)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
