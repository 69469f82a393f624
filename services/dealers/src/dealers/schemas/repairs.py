"""Warranty repair records (三包维修记录) and paid service."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from aftersales_shared.schemas import In, Out

from ..domain import RepairKind
from .fields import MoneyIn


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
