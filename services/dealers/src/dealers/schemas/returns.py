"""Old-part shipments, inspection of returned parts and the stores they go to."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from aftersales_shared.schemas import In, Out

from ..domain import Verdict


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
