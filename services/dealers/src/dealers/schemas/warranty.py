"""Sold units, their ownership conflicts and warranty cards (三包回执卡)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from aftersales_shared.schemas import In, Out, Phone


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
    customer_phone: Phone | None = None
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
            "contract_confirmed: the contract's dealer keeps the unit; registration_was_wrong: "
            "the self-registration "
            "is recorded as a mistake (measured against the registering dealer)"
        )
    )
    note: str = Field(min_length=1, max_length=1000)
