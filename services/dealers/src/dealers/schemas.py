"""HTTP request/response types of the dealers API (not the event contracts, not the tables)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aftersales_shared.inputmodel import StrictIn

from .domain import GRADES, LineDecision, RepairKind, Verdict

Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-_.]+$")
MoneyIn = Field(ge=0, max_digits=12, decimal_places=2)


class In(StrictIn):
    """Request bodies: unknown fields refused, text trimmed, no number taken for a date or a flag."""


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ------------------------------------------------------------------ dealers
class ContactIn(In):
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9\- ]{5,20}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    role: str | None = Field(default=None, max_length=50)


class DealerIn(In):
    dealer_id: str = Id
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(min_length=1, max_length=100, description="代理区域")
    agreement_no: str = Field(min_length=1, max_length=64, description="区域代理协议编号")
    agreement_start: date
    agreement_end: date
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    grade: str = Field(default="B", pattern=f"^[{''.join(GRADES)}]$")
    calendar_id: str = Field(default="default", max_length=64)
    return_mode: Literal["fixed_dates", "truck"] = "fixed_dates"

    @model_validator(mode="after")
    def _term(self) -> DealerIn:
        if self.agreement_end <= self.agreement_start:
            raise ValueError("agreement_end must be after agreement_start (协议终止日须晚于起始日)")
        return self


class DealerPatchIn(In):
    contacts: list[ContactIn] | None = Field(default=None, max_length=20)
    agreement_end: date | None = None
    calendar_id: str | None = Field(default=None, max_length=64)
    return_mode: Literal["fixed_dates", "truck"] | None = None


class DealerOut(Out):
    dealer_id: str
    name: str
    region: str
    agreement_no: str
    agreement_start: date
    agreement_end: date
    contacts: list[dict]
    grade: str
    calendar_id: str
    return_mode: str
    created_at: datetime
    created_by: str


class GradeChangeOut(Out):
    id: int
    dealer_id: str
    from_grade: str | None
    to_grade: str
    reason: str
    review_id: str | None
    changed_by: str
    changed_at: datetime


class GradeSetIn(In):
    grade: str = Field(pattern=f"^[{''.join(GRADES)}]$")
    reason: str = Field(min_length=2, max_length=2000)


class GradeReviewIn(In):
    window_days: int | None = Field(default=None, ge=7, le=730)


class GradeDecisionIn(In):
    confirm: bool
    note: str = Field(min_length=2, max_length=2000)


class GradeReviewOut(Out):
    id: str
    dealer_id: str
    window_start: date
    window_end: date
    measures: dict
    reasons: list[str]
    current_grade: str
    proposed_grade: str
    status: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class MeasuresOut(BaseModel):
    dealer_id: str
    window_start: date
    window_end: date
    late_cards: int
    late_returns: int
    late_arrangements: int
    sla_breaches: int
    missing_stock_plans: int
    tickets: int
    completions: int
    surveys: int
    mean_score: Decimal | None
    demotion_reasons: list[str]


class TruckVisitIn(In):
    visit_date: date


# ------------------------------------------------------------------ units and cards
class UnitIn(In):
    dealer_id: str | None = Field(
        default=None, max_length=64, description="a dealer user's own dealer when omitted"
    )
    serial_no: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=100)
    sale_date: date
    warranty_end: date | None = None
    customer_name: str = Field(min_length=1, max_length=200)
    contract_no: str | None = Field(default=None, max_length=64)


class UnitOut(Out):
    serial_no: str
    dealer_id: str
    model: str
    sale_date: date
    warranty_end: date | None
    customer_name: str
    contract_no: str | None
    source: str
    card_due: date
    card_status: str
    created_at: datetime


class CardIn(In):
    serial_no: str = Field(min_length=1, max_length=100)
    customer_name: str = Field(min_length=1, max_length=200)
    customer_phone: str | None = Field(default=None, pattern=r"^\+?[0-9\- ]{5,20}$")
    customer_address: str | None = Field(default=None, max_length=300)
    model: str | None = Field(
        default=None, max_length=100, description="checked against the unit when given"
    )


class OverrideIn(In):
    note: str = Field(min_length=2, max_length=2000, description="经理特批说明")


class CardOut(Out):
    id: str
    dealer_id: str
    serial_no: str
    model: str
    sale_date: date
    customer_name: str
    customer_phone: str | None
    customer_address: str | None
    registered_at: datetime
    registered_by: str
    day: int
    on_time: bool
    warranty_recognised: bool
    reason: str | None
    override_by: str | None
    override_note: str | None
    override_at: datetime | None


# ------------------------------------------------------------------ repairs
class RepairIn(In):
    dealer_id: str | None = Field(default=None, max_length=64)
    serial_no: str = Field(min_length=1, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    kind: RepairKind
    ticket_no: str | None = Field(default=None, max_length=64)
    fault_description: str = Field(min_length=2, max_length=4000)
    requested_at: datetime | None = Field(
        default=None, description="when the user's request reached the dealer"
    )


class ArrangeIn(In):
    engineer: str = Field(min_length=1, max_length=100)
    appointment_at: datetime
    user_informed: bool = Field(description="the user was told who comes when")
    reported_to_technical: bool = Field(description="reported to the technical department")
    arranged_at: datetime | None = None


class PartIn(In):
    part_no: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=10000)
    unit_cost: Decimal = MoneyIn


class ConfirmationIn(In):
    confirmed_by: str = Field(min_length=1, max_length=100, description="the end user who signed")
    confirmed_at: datetime
    method: Literal["signature", "phone", "sms", "online"]


class CompleteIn(In):
    repair_description: str = Field(min_length=2, max_length=4000)
    parts: list[PartIn] = Field(default_factory=list, max_length=100)
    labour_fee: Decimal = MoneyIn
    travel_fee: Decimal = MoneyIn
    confirmation: ConfirmationIn


class PartOut(Out):
    id: int
    part_no: str
    name: str
    quantity: int
    unit_cost: Decimal
    line_cost: Decimal
    status: str
    return_due: date | None
    shipment_id: str | None
    received_at: datetime | None
    verdict: str | None
    verdict_reason: str | None
    inspected_by: str | None
    inspected_at: datetime | None


class RepairOut(Out):
    id: str
    record_no: str
    dealer_id: str
    serial_no: str
    model: str | None
    kind: str
    ticket_no: str | None
    fault_description: str
    status: str
    requested_at: datetime
    arrange_due: datetime
    arrange_due_provisional: bool
    arranged_at: datetime | None
    arranged_late: bool | None
    engineer: str | None
    appointment_at: datetime | None
    reported_to_technical: bool
    repair_description: str | None
    completed_at: datetime | None
    confirmed_by: str | None
    confirmed_at: datetime | None
    confirmation_method: str | None
    parts_cost: Decimal
    labour_fee: Decimal
    travel_fee: Decimal
    claim_amount: Decimal
    customer_charge: Decimal
    claim_status: str
    claim_reason: str | None
    claim_decided_at: datetime | None
    parts: list[PartOut]
    created_at: datetime
    created_by: str


# ------------------------------------------------------------------ returns and inspection
class ShipmentIn(In):
    dealer_id: str | None = Field(default=None, max_length=64)
    record_ids: list[str] = Field(min_length=1, max_length=500)
    carrier: str | None = Field(default=None, max_length=100)
    truck_ref: str | None = Field(
        default=None, max_length=64, description="delivery truck the parts ride back on"
    )


class ShipmentOut(Out):
    id: str
    shipment_no: str
    dealer_id: str
    record_ids: list[str]
    carrier: str | None
    truck_ref: str | None
    shipped_at: datetime
    created_by: str
    received_at: datetime | None
    received_by: str | None
    parts: int = 0


class InspectionIn(In):
    verdict: Verdict
    reason: str | None = Field(default=None, max_length=2000)


class StockEntryOut(Out):
    id: int
    store: str
    part_id: int
    dealer_id: str
    part_no: str
    name: str
    quantity: int
    record_no: str
    entered_at: datetime
    entered_by: str


# ------------------------------------------------------------------ reconciliation
class NoticeIn(In):
    dealer_id: str = Id
    period_start: date
    period_end: date


class LineAnswerIn(In):
    decision: LineDecision
    reason: str | None = Field(default=None, max_length=2000)


class LineOut(Out):
    id: int
    record_id: str
    record_no: str
    serial_no: str
    amount: Decimal
    decision: str
    dispute_reason: str | None
    answered_by: str | None
    answered_at: datetime | None


class NoticeOut(Out):
    id: str
    notice_no: str
    dealer_id: str
    period_start: date
    period_end: date
    status: str
    total: Decimal
    confirmed_amount: Decimal | None
    issued_at: datetime
    issued_by: str
    confirmed_at: datetime | None
    confirmed_by: str | None
    lines: list[LineOut]


# ------------------------------------------------------------------ stocking plans
class SeasonIn(In):
    code: str = Id
    name: str = Field(min_length=1, max_length=100)
    starts_on: date


class SeasonOut(Out):
    code: str
    name: str
    starts_on: date
    plan_due: date
    created_by: str
    created_at: datetime


class PlanLineIn(In):
    part_no: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=100000)


class PlanIn(In):
    dealer_id: str | None = Field(default=None, max_length=64)
    season_code: str = Id
    lines: list[PlanLineIn] = Field(min_length=1, max_length=500)


class PlanOut(Out):
    id: str
    dealer_id: str
    season_code: str
    lines: list[dict]
    submitted_at: datetime
    submitted_by: str
    due: date
    on_time: bool


class AuditOut(Out):
    id: int
    dealer_id: str | None
    entity: str
    entity_id: str
    action: str
    actor: str
    at: datetime
    detail: dict


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class UnitConflictOut(Out):
    id: str
    serial_no: str
    registered_by_dealer: str
    contract_dealer: str
    contract_no: str
    status: str
    resolution: str | None
    note: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class UnitConflictDecisionIn(In):
    resolution: Literal["contract_confirmed", "registration_was_wrong"] = Field(
        description=(
            "contract_confirmed: the contract's dealer keeps the unit; registration_was_wrong: the self-registration "
            "is recorded as a mistake (measured against the registering dealer)"
        )
    )
    note: str = Field(min_length=1, max_length=1000)
