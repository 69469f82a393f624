"""Contract drafts and edits, service terms, review decisions, signatures, archiving, amendments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from aftersales_shared.patch import NoNullsUnlessClearable
from aftersales_shared.schemas import In, Out

from ..domain import ArchiveItem, Party, ServiceScope, SignMethod, Urgency
from .customers import CustomerIn
from .fields import Money


class ProductIn(In):
    model: str = Field(min_length=1, max_length=100)
    serial_no: str = Field(min_length=1, max_length=100)
    warranty_end: date
    batch_no: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="生产批次 (production batch): the reports' failure rate per batch counts it",
    )


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
    """售后服务合同: what the customer is entitled to (service levels are given per urgency
    alongside)."""

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
    """A new contract draft; the customer is registered (or matched) from `customer`, or named by
    `customer_id`."""

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
                "give either customer (to register or match) or customer_id (of a registered "
                "customer)"
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
    batch_no: str | None = None


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
