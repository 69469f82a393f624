"""Events owned by the parts service (spare-parts stock, the movement ledger, reservations)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from .base import EventData, event


@event
class PartIssuedV1(EventData):
    """Units of a part left a location for a ticket (a repair consumed them): the ticket's parts
    cost grows by quantity × unit price at issue."""

    NAME = "PartIssued"
    VERSION = 1
    PRODUCER = "parts"

    movement_id: str
    part_no: str
    part_name: str
    quantity: int = Field(ge=1)
    unit_price: Decimal = Field(decimal_places=2, description="CNY, the part's price at issue")
    currency: str = "CNY"
    warranty_part: bool
    location_id: str
    ticket_no: str
    issued_by: str
    issued_at: datetime


@event
class PartReturnedV1(EventData):
    """Unused units of a part issued to a ticket came back to a location: the ticket's parts cost
    shrinks by quantity × the unit price they were issued at."""

    NAME = "PartReturned"
    VERSION = 1
    PRODUCER = "parts"

    movement_id: str
    part_no: str
    part_name: str
    quantity: int = Field(ge=1)
    unit_price: Decimal = Field(decimal_places=2, description="CNY, the price they were issued at")
    currency: str = "CNY"
    location_id: str
    ticket_no: str
    returned_by: str
    returned_at: datetime


@event
class StockBelowReorderPointV1(EventData):
    """A movement took a part's total stock (good units on hand, all locations) to or below its
    reorder point: once per crossing, again only after the stock rose above the point."""

    NAME = "StockBelowReorderPoint"
    VERSION = 1
    PRODUCER = "parts"

    part_no: str
    part_name: str
    on_hand: int = Field(description="good units on hand in all locations after the movement")
    reorder_point: int = Field(ge=0)
    reorder_quantity: int = Field(ge=1, description="what to order (the part's reorder quantity)")
    movement_id: str
    at: datetime


@event
class PartsArrivedForTicketV1(EventData):
    """Stock received at a location now covers a ticket's open reservation: the ticket waiting
    for this part can go on (tickets resumes its clocks when none of its reservations still
    waits)."""

    NAME = "PartsArrivedForTicket"
    VERSION = 1
    PRODUCER = "parts"

    reservation_id: str
    ticket_no: str
    part_no: str
    part_name: str
    quantity: int = Field(ge=1)
    location_id: str
    arrived_at: datetime
    still_waiting: int = Field(
        ge=0, description="the ticket's other reservations whose parts have not arrived yet"
    )
