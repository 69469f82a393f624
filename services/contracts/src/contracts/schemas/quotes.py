"""Requirement confirmation forms (客户需求确认单) and quotes (报价单)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from aftersales_shared.schemas import In, Out

from .fields import Percent


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
