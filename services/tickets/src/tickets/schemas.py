"""HTTP response types of the tickets API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class UnitOut(BaseModel):
    serial_no: str
    model: str
    warranty_end: date


class EntitlementOut(BaseModel):
    contract_no: str
    customer_id: str
    customer_name: str
    contacts: list[dict]
    service_levels: list[dict]
    calendar: str
    dealer_id: str | None
    signed_at: datetime
    recorded_at: datetime
    units: list[UnitOut]


class EntitlementPage(BaseModel):
    items: list[EntitlementOut]
    total: int
    limit: int
    offset: int
