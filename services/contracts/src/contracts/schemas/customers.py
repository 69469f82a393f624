"""Customers and leads: registration, updates, conversion."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from aftersales_shared.patch import NoNullsUnlessClearable
from aftersales_shared.schemas import ContactIn, In, Out

from ..domain import LeadGrade


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
