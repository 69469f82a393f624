"""HTTP request/response types of the contracts API (not the event contracts)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aftersales_shared.inputmodel import StrictIn
from aftersales_shared.patch import NoNullsUnlessClearable

from .domain import ArchiveItem, LeadGrade, Party, ServiceScope, SignMethod, Urgency

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class In(StrictIn):
    """Request bodies: unknown fields refused, text trimmed, no number taken for a date or a flag."""


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ---------------------------------------------------------------- customers and leads
class ContactIn(In):
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9\- ]{5,20}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    role: str | None = Field(default=None, max_length=50)


class AddressIn(In):
    kind: Literal["registered", "office", "delivery", "invoice"] = "office"
    address: str = Field(min_length=1, max_length=300)


class CustomerIn(In):
    customer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-_]+$")
    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(description="统一社会信用代码 (18 characters with check digit)")
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=10)
    industry: str | None = Field(default=None, max_length=100)


class CustomerPatch(NoNullsUnlessClearable, In):
    clearable = frozenset({"industry"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    contacts: list[ContactIn] | None = Field(default=None, max_length=20)
    addresses: list[AddressIn] | None = Field(default=None, max_length=10)
    industry: str | None = Field(default=None, max_length=100)


class CustomerOut(Out):
    customer_id: str
    name: str
    credit_code: str
    contacts: list[dict]
    addresses: list[dict]
    industry: str | None
    owner: str | None
    from_lead: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime


class LeadSource(StrEnum):
    ONLINE_INQUIRY = "online_inquiry"
    TRADE_SHOW = "trade_show"
    REFERRAL = "referral"
    PHONE = "phone"
    DEALER = "dealer"
    OTHER = "other"


class LeadIn(In):
    company_name: str = Field(min_length=1, max_length=200)
    industry: str | None = Field(default=None, max_length=100)
    contact: ContactIn
    source: LeadSource
    need: str = Field(min_length=1, max_length=2000)
    grade: LeadGrade
    owner: str | None = Field(
        default=None, max_length=100, description="sales rep; defaults to the caller"
    )


class LeadPatch(NoNullsUnlessClearable, In):
    grade: LeadGrade | None = None
    need: str | None = Field(default=None, min_length=1, max_length=2000)
    owner: str | None = Field(default=None, min_length=1, max_length=100)
    contact: ContactIn | None = None
    status: Literal["dropped"] | None = None


class LeadConvertIn(In):
    customer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-_]+$")
    credit_code: str
    name: str | None = Field(default=None, min_length=1, max_length=200)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=10)


class LeadOut(Out):
    lead_id: str
    company_name: str
    industry: str | None
    contact: dict
    source: str
    need: str
    grade: str
    follow_up_by: date | None
    owner: str
    status: str
    customer_id: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime


# ---------------------------------------------------------------- requirement forms and quotes
class RequirementLineIn(In):
    product: str = Field(min_length=1, max_length=200)
    model: str = Field(min_length=1, max_length=100)
    spec: str | None = Field(default=None, max_length=500)
    quantity: int = Field(gt=0, le=100_000)


class RequirementIn(In):
    requirement_no: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-_/]+$")
    customer_id: str = Field(min_length=1, max_length=64)
    lines: list[RequirementLineIn] = Field(min_length=1, max_length=200)
    delivery_date: date
    delivery_place: str = Field(min_length=1, max_length=300)
    quality_standard: str = Field(min_length=1, max_length=500)
    payment_terms: str = Field(min_length=1, max_length=500)


class RequirementConfirmIn(In):
    confirmed_by: str = Field(
        min_length=1, max_length=100, description="the customer's representative who signed"
    )
    method: Literal["signature", "seal", "e_signature"] = "signature"


class RequirementOut(Out):
    requirement_no: str
    customer_id: str
    lines: list[dict]
    delivery_date: date
    delivery_place: str
    quality_standard: str
    payment_terms: str
    status: str
    confirmed_by: str | None
    confirmed_at: datetime | None
    confirmation_method: str | None
    created_at: datetime
    created_by: str


class QuoteLineIn(In):
    model: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=300)
    quantity: int = Field(gt=0, le=100_000)
    unit_price: Annotated[
        Decimal,
        Field(
            max_digits=14,
            decimal_places=2,
            description="CNY; checked ≥ 0 by the pricing rules (422)",
        ),
    ]
    discount_pct: Percent = Decimal("0")


class InstalmentIn(In):
    label: str = Field(min_length=1, max_length=50, description="e.g. 预付款")
    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)]
    due: str = Field(
        min_length=1, max_length=100, description="e.g. 签约后7日内 / 到货验收后30日内"
    )


class QuoteIn(In):
    quote_no: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-_/]+$")
    customer_id: str = Field(min_length=1, max_length=64)
    requirement_no: str | None = Field(default=None, max_length=64)
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=200)
    instalments: list[InstalmentIn] = Field(min_length=1, max_length=12)
    lead_time_days: int = Field(gt=0, le=720)
    valid_until: date


class QuoteDecisionIn(In):
    approve: bool
    reason: str | None = Field(default=None, max_length=1000)


class QuoteOut(Out):
    quote_no: str
    customer_id: str
    requirement_no: str | None
    lines: list[dict]
    instalments: list[dict]
    list_total: Decimal
    net_total: Decimal
    max_discount_pct: Decimal
    lead_time_days: int
    valid_until: date
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime
    created_by: str


# ---------------------------------------------------------------- contracts
class ProductIn(In):
    model: str = Field(min_length=1, max_length=100)
    serial_no: str = Field(min_length=1, max_length=100)
    warranty_end: date


class ServiceLevelIn(In):
    urgency: Urgency
    response_minutes: int = Field(gt=0, le=60 * 24 * 30)
    resolution_minutes: int = Field(gt=0, le=60 * 24 * 90)
    onsite_minutes: int | None = Field(default=None, gt=0)
    loaner_after_minutes: int | None = Field(default=None, gt=0)


class PriceComponentIn(In):
    kind: Literal["materials", "labour", "travel", "other"]
    amount: Money
    description: str | None = Field(default=None, max_length=300)


class DisputeIn(In):
    method: Literal["negotiation", "mediation", "arbitration", "litigation"] = "negotiation"
    venue: str | None = Field(default=None, max_length=200, description="arbitration body or court")


class ServiceTermsIn(In):
    """售后服务合同: what the customer is entitled to (service levels are given per urgency alongside)."""

    scope: list[ServiceScope] = Field(
        default_factory=lambda: [
            ServiceScope.REPAIR,
            ServiceScope.REPLACEMENT,
            ServiceScope.TECHNICAL_SUPPORT,
        ],
        min_length=1,
    )
    inspections_per_year: int | None = Field(default=None, ge=1, le=12)
    onsite_service: bool = True
    loaner_promised: bool = False
    loaner_grade: str | None = Field(
        default=None, max_length=100, description="同档次备用机 description"
    )
    term_months: int = Field(default=12, ge=1, le=120)
    auto_renew: bool = False
    renewal_notice_days: int = Field(default=30, ge=0, le=365)
    price_components: list[PriceComponentIn] = Field(default_factory=list, max_length=10)
    payment_method: Literal["bank_transfer", "acceptance_bill", "cash", "other"] = "bank_transfer"
    payment_due_days: int = Field(default=30, ge=0, le=365)
    payment_terms: str | None = Field(default=None, max_length=1000)
    confidentiality_clause: str | None = Field(default=None, max_length=4000)
    change_and_termination: str | None = Field(default=None, max_length=4000)
    dispute_resolution: DisputeIn = Field(default_factory=DisputeIn)


class ContractDraftIn(In):
    """A new contract draft; the customer is registered (or matched) from `customer`, or named by `customer_id`."""

    contract_no: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-_/]+$")
    customer: CustomerIn | None = None
    customer_id: str | None = Field(default=None, min_length=1, max_length=64)
    products: list[ProductIn] = Field(min_length=1, max_length=500)
    service_levels: list[ServiceLevelIn] = Field(default_factory=list, max_length=3)
    terms: ServiceTermsIn = Field(default_factory=ServiceTermsIn)
    calendar: str = Field(
        default="default", max_length=64, description="working-time calendar id, or 24x7"
    )
    dealer_id: str | None = Field(default=None, max_length=64)
    sales_rep: str | None = Field(default=None, max_length=64)
    quote_no: str | None = Field(default=None, max_length=64)
    requirement_no: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_customer(self) -> ContractDraftIn:
        if (self.customer is None) == (self.customer_id is None):
            raise ValueError(
                "give either customer (to register or match) or customer_id (of a registered customer)"
            )
        return self


class ContractPatch(NoNullsUnlessClearable, In):
    """Edit a draft (voids review sign-offs already given)."""

    clearable = frozenset({"dealer_id", "quote_no", "requirement_no", "sales_rep"})

    products: list[ProductIn] | None = Field(default=None, min_length=1, max_length=500)
    service_levels: list[ServiceLevelIn] | None = Field(default=None, max_length=3)
    terms: ServiceTermsIn | None = None
    calendar: str | None = Field(default=None, max_length=64)
    dealer_id: str | None = Field(default=None, max_length=64)
    sales_rep: str | None = Field(default=None, max_length=64)
    quote_no: str | None = Field(default=None, max_length=64)
    requirement_no: str | None = Field(default=None, max_length=64)


class SignOffIn(In):
    decision: Literal["approve", "reject"]
    comments: str = Field(default="", max_length=4000)


class SignatureIn(In):
    party: Party
    signer: str = Field(min_length=1, max_length=100)
    signed_at: datetime
    method: SignMethod


class SignIn(In):
    document_sha256: str = Field(description="SHA-256 (hex) of the exact document version signed")
    signatures: list[SignatureIn] = Field(min_length=2, max_length=2)


class ArchiveIn(In):
    items: list[ArchiveItem] = Field(
        min_length=1,
        max_length=10,
        description="original, customer_credentials, requirement_form, review_form",
    )
    location: str | None = Field(
        default=None, max_length=200, description="archive room / DMS reference"
    )


class AmendmentIn(In):
    reason: str = Field(min_length=1, max_length=2000)


class ProductOut(BaseModel):
    model: str
    serial_no: str
    warranty_end: date


class SignatureOut(BaseModel):
    party: str
    signer: str
    signed_at: datetime
    method: str


class SignOffOut(Out):
    review_round: int
    part: str
    approved: bool
    reviewer: str
    comments: str
    document_sha256: str | None
    at: datetime


class ContractOut(BaseModel):
    contract_no: str
    version: int
    status: str
    customer_id: str
    customer_name: str
    credit_code: str | None
    contacts: list[dict]
    products: list[ProductOut]
    service_levels: list[dict]
    terms: dict | None
    calendar: str
    dealer_id: str | None
    sales_rep: str | None
    quote_no: str | None
    requirement_no: str | None
    amendment_reason: str | None
    document_sha256: str | None
    review_round: int
    sign_offs: list[SignOffOut] = Field(description="decisions of the current review round")
    missing_sign_offs: list[str]
    created_at: datetime
    created_by: str
    updated_at: datetime | None
    submitted_at: datetime | None
    approved_at: datetime | None
    signed_at: datetime | None
    signatures: list[SignatureOut]
    term_start: date | None
    term_end: date | None
    archive_due_at: datetime | None
    archive_due_provisional: bool | None
    archive_overdue_at: datetime | None
    archived_at: datetime | None
    archived_by: str | None
    archived_on_time: bool | None
    archive_items: list[str] | None
    archive_location: str | None


class ContractPage(BaseModel):
    items: list[ContractOut]
    total: int
    limit: int
    offset: int


# ---------------------------------------------------------------- orders
class OrderLineIn(In):
    model: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0, le=100_000)


class OrderIn(In):
    contract_no: str = Field(min_length=1, max_length=64)
    delivery_place: str = Field(min_length=1, max_length=300)
    lines: list[OrderLineIn] | None = Field(
        default=None, max_length=200, description="defaults to the contract's products"
    )


class ShippingIn(In):
    ships_at: datetime


class ReceiptIn(In):
    received_at: datetime
    signed_by: str = Field(
        min_length=1, max_length=100, description="customer's receiver who signed the 收货确认单"
    )
    quantity_ok: bool
    model_ok: bool
    appearance_ok: bool
    objections: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=20
    )


class ObjectionAnswerIn(In):
    answer: str = Field(min_length=1, max_length=4000)


class BookingIn(In):
    scheduled_for: datetime
    engineer: str = Field(min_length=1, max_length=100)
    contacted_at: datetime | None = Field(
        default=None, description="when the customer was contacted (default now)"
    )
    customer_contact: str | None = Field(default=None, max_length=100)


class AcceptanceIn(In):
    accepted_on: date
    equipment_state: str = Field(min_length=1, max_length=2000)
    customer_remarks: str | None = Field(default=None, max_length=2000)
    accepted_by: str = Field(
        min_length=1, max_length=100, description="customer's signer of the 安装验收单"
    )
    passed: bool = True


class AttendeeIn(In):
    name: str = Field(min_length=1, max_length=100)
    role: str | None = Field(default=None, max_length=100)
    signed: bool = True


class TrainingIn(In):
    held_at: datetime
    trainer: str = Field(min_length=1, max_length=100)
    topics: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=30
    )
    attendees: list[AttendeeIn] = Field(min_length=1, max_length=200)


class ObjectionOut(Out):
    objection_no: int
    text: str
    raised_at: datetime
    answer_due_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    answered_on_time: bool | None
    overdue_at: datetime | None


class TrainingOut(Out):
    held_at: datetime
    trainer: str
    topics: list[str]
    attendees: list[dict]
    recorded_by: str
    recorded_at: datetime


class OrderOut(Out):
    order_no: str
    contract_no: str
    contract_version: int
    customer_id: str
    customer_name: str
    lines: list[dict]
    delivery_place: str
    status: str
    entered_at: datetime
    entered_by: str
    entry_due_at: datetime | None
    entered_on_time: bool | None
    ships_at: datetime | None
    notice_due_at: datetime | None
    notice_sent_at: datetime | None
    received_at: datetime | None
    receipt: dict | None
    booking_due_at: datetime | None
    booking_due_provisional: bool | None
    booking: dict | None
    booked_on_time: bool | None
    booking_overdue_at: datetime | None
    acceptance: list[dict] | None
    objections: list[ObjectionOut]
    trainings: list[TrainingOut]


class AuditOut(Out):
    id: int
    entity: str
    entity_key: str
    action: str
    actor: str
    actor_roles: list[str]
    at: datetime
    detail: dict[str, Any]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
