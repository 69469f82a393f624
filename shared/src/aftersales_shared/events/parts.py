"""Events owned by the parts service (spare-parts stock, the movement ledger, reservations)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from .base import EventData, event
from .common import Contact


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


class QuoteLine(BaseModel):
    """One line of a quote or an invoice: labour, travel, a service item or a part."""

    model_config = ConfigDict(extra="ignore")

    kind: str = Field(description="labour | travel | service | part")
    description: str
    quantity: Decimal = Field(description="hours, km, units")
    unit: str
    unit_price: Decimal = Field(decimal_places=2, description="CNY, before tax")
    amount: Decimal = Field(decimal_places=2, description="CNY, before tax")


@event
class QuoteIssuedV1(EventData):
    """A quote for paid service (chargeable ticket) was sent to the customer as a link; the repair
    waits for the customer's acceptance."""

    NAME = "QuoteIssued"
    VERSION = 1
    PRODUCER = "parts"

    quote_id: str
    quote_no: str
    ticket_no: str
    customer_name: str | None = None
    net_amount: Decimal = Field(decimal_places=2, description="CNY, before tax")
    tax_rate: Decimal = Field(description="e.g. 0.13")
    tax_amount: Decimal = Field(decimal_places=2)
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    lines: list[QuoteLine]
    contact: Contact = Field(description="the ticket's contact: notifications sends the link")
    link_masked: str = Field(description="the quote page URL with the token cut short")
    link_sealed: str = Field(
        description="the full link in a libsodium sealed box to notifications' public key"
    )
    expires_at: datetime
    issued_by: str
    issued_at: datetime


@event
class QuoteAcceptedV1(EventData):
    """The customer accepted a quote: the chargeable repair may start."""

    NAME = "QuoteAccepted"
    VERSION = 1
    PRODUCER = "parts"

    quote_id: str
    quote_no: str
    ticket_no: str
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    signer: str
    decided_at: datetime


@event
class QuoteDeclinedV1(EventData):
    """The customer declined a quote: no chargeable repair on it."""

    NAME = "QuoteDeclined"
    VERSION = 1
    PRODUCER = "parts"

    quote_id: str
    quote_no: str
    ticket_no: str
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    signer: str
    reason: str | None = None
    decided_at: datetime


@event
class InvoiceRequestedV1(EventData):
    """A VAT invoice (增值税发票) is to be issued by finance for a chargeable ticket."""

    NAME = "InvoiceRequested"
    VERSION = 1
    PRODUCER = "parts"

    invoice_id: str
    ticket_no: str
    quote_no: str | None = None
    invoice_type: str = Field(description="special (专票) | normal (普票)")
    buyer_name: str
    buyer_tax_no: str = Field(description="统一社会信用代码 (checked)")
    buyer_address_phone: str | None = None
    buyer_bank_account: str | None = None
    net_amount: Decimal = Field(decimal_places=2, description="CNY, before tax")
    tax_rate: Decimal
    tax_amount: Decimal = Field(decimal_places=2)
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    lines: list[QuoteLine]
    requested_by: str
    requested_at: datetime
