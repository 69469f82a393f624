"""HTTP request/response types of the contracts API (not the event contracts)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from .domain import Party, SignMethod, Urgency


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(In):
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9\- ]{5,20}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    role: str | None = Field(default=None, max_length=50)


class CustomerIn(In):
    customer_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(description="统一社会信用代码 (18 characters with check digit)")
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)


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


class ContractDraftIn(In):
    contract_no: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-_/]+$")
    customer: CustomerIn
    products: list[ProductIn] = Field(min_length=1, max_length=500)
    service_levels: list[ServiceLevelIn] = Field(default_factory=list, max_length=3)
    calendar: str = Field(default="default", max_length=64)
    dealer_id: str | None = Field(default=None, max_length=64)
    sales_rep: str | None = Field(default=None, max_length=64)


class SignatureIn(In):
    party: Party
    signer: str = Field(min_length=1, max_length=100)
    signed_at: datetime
    method: SignMethod


class SignIn(In):
    document_sha256: str = Field(description="SHA-256 (hex) of the exact document version signed")
    signatures: list[SignatureIn] = Field(min_length=2, max_length=2)


class ProductOut(BaseModel):
    model: str
    serial_no: str
    warranty_end: date


class SignatureOut(BaseModel):
    party: str
    signer: str
    signed_at: datetime
    method: str


class ContractOut(BaseModel):
    contract_no: str
    status: str
    customer_id: str
    customer_name: str
    credit_code: str | None
    contacts: list[dict]
    products: list[ProductOut]
    service_levels: list[dict]
    calendar: str
    dealer_id: str | None
    sales_rep: str | None
    document_sha256: str | None
    created_at: datetime
    created_by: str
    signed_at: datetime | None
    signatures: list[SignatureOut]


class ContractPage(BaseModel):
    items: list[ContractOut]
    total: int
    limit: int
    offset: int
