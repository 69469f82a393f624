"""HTTP request and response types of the parts service (never reused as event payloads): the
field types every area shares, parts and locations, movements, balances and reservations, a ticket's
costs and the Excel import. The other areas have modules of their own: `money_schemas` (a ticket's
coverage, price list, quotes, invoice requests), `expense_schemas` (expense claims, 报销),
`invoice_schemas` (the invoice register)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from aftersales_shared.patch import NoNullsUnlessClearable
from aftersales_shared.schemas import In, Out

from .domain import LocationKind, MovementKind

PartNo = Annotated[
    str, Field(min_length=2, max_length=40, description="备件编号, e.g. XK-BRG-6205")
]
LocationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$")]
TicketNo = Annotated[str, Field(min_length=1, max_length=100)]
Quantity = Annotated[int, Field(ge=1, le=1_000_000)]
Price = Annotated[
    Decimal, Field(ge=0, le=Decimal("99999999.99"), decimal_places=2, description="CNY")
]
Key = Annotated[
    str,
    Field(
        min_length=8,
        max_length=100,
        description="idempotency key: a retried request with the same key returns the first "
        "result and writes nothing",
    ),
]


class PartIn(In):
    part_no: PartNo
    name: str = Field(min_length=1, max_length=200, description="名称 (zh)")
    unit: str = Field(default="件", min_length=1, max_length=20)
    unit_price: Price
    warranty_part: bool = False
    compatible_models: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=200
    )
    reorder_point: int = Field(default=0, ge=0, le=1_000_000)
    reorder_quantity: int = Field(default=1, ge=1, le=1_000_000)


class PartPatch(NoNullsUnlessClearable, In):
    """A field left out keeps its value; null is refused (nothing of a part can be cleared)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    unit: str | None = Field(default=None, min_length=1, max_length=20)
    # typed without None (null is refused anyway) so the document says number, as in PartIn
    unit_price: Price = None  # type: ignore[assignment]
    warranty_part: bool | None = None
    compatible_models: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=200
    )
    reorder_point: int | None = Field(default=None, ge=0, le=1_000_000)
    reorder_quantity: int | None = Field(default=None, ge=1, le=1_000_000)


class PartOut(Out):
    part_no: str
    name: str
    unit: str
    unit_price: Decimal
    warranty_part: bool
    compatible_models: list[str]
    reorder_point: int
    reorder_quantity: int
    below_reorder: bool
    created_at: datetime
    updated_at: datetime


class LocationIn(In):
    location_id: LocationId
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    engineer_id: str | None = Field(default=None, min_length=1, max_length=200)
    dealer_id: str | None = Field(default=None, min_length=1, max_length=64)
    region: str | None = Field(default=None, max_length=100)


class LocationOut(Out):
    location_id: str
    name: str
    kind: str
    engineer_id: str | None
    dealer_id: str | None
    region: str | None


class MovementIn(In):
    """One movement; which fields it needs depends on `kind` (receive: to; transfer: from and to;
    issue: from and ticket; return_unused and faulty_returned: ticket and to; scrap: from)."""

    kind: MovementKind
    part_no: PartNo
    quantity: Quantity
    from_location: LocationId | None = None
    to_location: LocationId | None = None
    ticket_no: TicketNo | None = None
    stock: Literal["good", "faulty"] = Field(
        default="good", description="scrap: good units or faulty ones returned"
    )
    reason: str | None = Field(default=None, max_length=500)
    idempotency_key: Key


class MovementOut(Out):
    movement_id: str
    kind: str
    part_no: str
    quantity: int
    from_location: str | None
    to_location: str | None
    ticket_no: str | None
    unit_price: Decimal | None
    stock: str
    reason: str | None
    actor: str
    at: datetime
    idempotency_key: str


class BalanceOut(Out):
    part_no: str
    location_id: str
    on_hand: int
    reserved: int
    available: int
    faulty: int


class ReservationIn(In):
    part_no: PartNo
    location_id: LocationId
    ticket_no: TicketNo
    quantity: Quantity
    note: str | None = Field(default=None, max_length=500)


class ReservationCancelIn(In):
    reason: str = Field(min_length=1, max_length=500)


class ReservationOut(Out):
    reservation_id: str
    part_no: str
    location_id: str
    ticket_no: str
    quantity: int
    remaining: int
    status: str
    covered_at: datetime | None
    note: str | None
    created_at: datetime
    created_by: str
    closed_at: datetime | None
    closed_by: str | None


class ReorderSuggestionOut(Out):
    part_no: str
    name: str
    unit: str
    on_hand: int
    reorder_point: int
    suggested_quantity: int
    unit_price: Decimal


class CostLineOut(Out):
    part_no: str
    name: str
    unit: str
    warranty_part: bool
    unit_price: Decimal
    issued: int
    returned: int
    quantity: int
    amount: str = Field(description="CNY, two places")


class ServiceLineOut(Out):
    line_id: str
    kind: str = Field(description="labour | travel")
    person: str
    description: str
    quantity: str | None = Field(description="hours or km; null for a fixed amount")
    unit: str
    rate: str | None
    amount: str
    created_at: datetime
    created_by: str


class ExpenseCostLineOut(Out):
    claim_no: str
    engineer_id: str
    state: str
    line_no: int
    spent_on: date
    category: str
    category_zh: str
    amount: str
    shared_with: int = Field(description="how many other tickets the same line names")


class TicketCostsOut(Out):
    ticket_no: str
    currency: str = "CNY"
    lines: list[CostLineOut]
    total: str = Field(description="CNY, two places: parts issued minus returned, at issue price")
    warranty_total: str = Field(description="the part of the total on warranty (三包) parts")
    coverage: str | None = Field(
        default=None, description="warranty | chargeable (null: ticket not known to parts yet)"
    )
    coverage_reason: str | None = None
    service_lines: list[ServiceLineOut] = Field(default_factory=list)
    parts_total: str = Field(description="CNY: the same as `total`")
    labour_total: str
    travel_total: str
    grand_total: str = Field(description="CNY before tax: parts + labour + travel")
    chargeable_total: str = Field(description="what the customer pays before tax (0 on warranty)")
    expense_lines: list[ExpenseCostLineOut] = Field(
        default_factory=list,
        description="approved or settled expense claim lines (报销) naming this ticket: the "
        "company's travel cost, not in grand_total; an engineer sees their own only",
    )
    expense_total: str = Field(
        default="0.00",
        description="CNY: the sum of expense_lines (a line naming several tickets counts in full "
        "on each)",
    )


class ImportOut(Out):
    parts_created: int
    parts_updated: int
    opening_lines: int
