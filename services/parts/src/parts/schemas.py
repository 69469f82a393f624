"""HTTP request and response types of the parts service (never reused as event payloads)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from aftersales_shared.patch import NoNullsUnlessClearable
from aftersales_shared.schemas import In, Out

from .domain import LocationKind, MovementKind
from .expenses import Category as ExpenseCategory
from .invoice_schemas import InvoiceEntryOut, InvoiceSummaryOut

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


# ---------------------------------------------------------------- money on a ticket
Reason = Annotated[str, Field(min_length=4, max_length=500, description="原因")]
Amount = Annotated[
    Decimal, Field(gt=0, le=Decimal("10000"), decimal_places=2, description="hours, km or units")
]
TaxRate = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("0.17"), decimal_places=4, description="VAT rate, e.g. 0.13"),
]
# optional decimals below are typed without None (null is refused) so the document says number


class TicketOut(Out):
    ticket_no: str
    customer_name: str
    contract_no: str | None
    product_model: str | None
    serial_no: str | None
    in_warranty: bool | None = Field(description="as the entitlement said at opening")
    coverage: str = Field(description="warranty (保修/三包) | chargeable (收费)")
    coverage_reason: str
    opened_at: datetime
    updated_at: datetime


class CoverageIn(In):
    coverage: Literal["warranty", "chargeable"]
    reason: Reason


class CoverageChangeOut(Out):
    change_id: str
    from_coverage: str
    to_coverage: str
    reason: str
    actor: str
    at: datetime


class PriceItemIn(In):
    kind: Literal["labour", "travel", "service"]
    name: str = Field(min_length=1, max_length=200, description="名称, e.g. 工程师工时")
    unit: str = Field(min_length=1, max_length=20, description="小时, 公里, 次")
    rate: Price
    active: bool = True


class PriceItemOut(Out):
    code: str
    kind: str
    name: str
    unit: str
    rate: Decimal
    active: bool
    updated_at: datetime
    updated_by: str


class CostLineIn(In):
    kind: Literal["labour", "travel"]
    person: str = Field(min_length=1, max_length=200, description="who worked or travelled")
    quantity: Amount = Field(default=None, description="hours (labour) or km (travel)")  # type: ignore[assignment]
    price_code: str | None = Field(default=None, min_length=1, max_length=40)
    amount: Price = Field(default=None, description="a fixed amount: actual fares")  # type: ignore[assignment]
    description: str | None = Field(default=None, max_length=200)
    idempotency_key: Key


class QuoteLineIn(In):
    price_code: str | None = Field(default=None, min_length=1, max_length=40)
    part_no: PartNo | None = None
    quantity: Amount = Field(default=1, validate_default=True)
    description: str | None = Field(default=None, max_length=200)


class QuoteIn(In):
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=50)
    tax_rate: TaxRate = Field(default=None, description="default: the service's VAT rate")  # type: ignore[assignment]
    note: str | None = Field(default=None, max_length=1000)


class QuoteLineOut(Out):
    kind: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    amount: str


class QuoteOut(Out):
    quote_id: str
    quote_no: str
    ticket_no: str
    status: str = Field(description="issued | accepted | declined | expired | withdrawn")
    lines: list[QuoteLineOut]
    net_amount: Decimal
    tax_rate: Decimal
    tax_amount: Decimal
    total: Decimal
    note: str | None
    link_masked: str
    expires_at: datetime
    issued_at: datetime
    issued_by: str
    decided_at: datetime | None
    signer: str | None
    decline_reason: str | None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdrawal_reason: str | None = None


class WithdrawIn(In):
    reason: str = Field(min_length=1, max_length=500, description="撤回原因 (4–500 characters)")


class QuoteIssuedOut(QuoteOut):
    link: str = Field(description="the customer's link, shown once (notifications sends it)")


class InvoiceIn(In):
    buyer_name: str = Field(min_length=2, max_length=200, description="购买方名称")
    buyer_tax_no: str = Field(
        min_length=1, max_length=40, description="购买方税号 (统一社会信用代码, checked)"
    )
    invoice_type: Literal["special", "normal"] = Field(
        default="normal", description="special (增值税专用发票) | normal (普通发票)"
    )
    buyer_address_phone: str | None = Field(default=None, max_length=300)
    buyer_bank_account: str | None = Field(default=None, max_length=300)
    tax_rate: TaxRate = Field(default=None, description="default: the service's VAT rate")  # type: ignore[assignment]


class InvoiceOut(InvoiceSummaryOut):
    lines: list[QuoteLineOut]


class InvoiceRecordOut(InvoiceEntryOut):
    """A request in any state with its lines: the answer of withdrawing or reversing it."""

    lines: list[QuoteLineOut]


# ---------------------------------------------------------------- expense claims (报销)
ExpenseAmount = Annotated[
    Decimal,
    Field(
        gt=0,
        le=Decimal("50000.00"),
        decimal_places=2,
        description="CNY, more than 0, two places, at most 50,000.00 a line",
    ),
]


class ExpenseLineIn(In):
    spent_on: date = Field(description="the day the money was spent (inside the trip)")
    category: ExpenseCategory = Field(
        description="transport 交通, lodging 住宿, meal_allowance 餐补, other 其他"
    )
    amount: ExpenseAmount
    note: str | None = Field(default=None, max_length=500)
    ticket_nos: list[TicketNo] = Field(
        min_length=1, max_length=10, description="the ticket(s) the line is for"
    )


class ExpenseClaimIn(In):
    trip_start: date
    trip_end: date = Field(description="the deadline counts working days after this day")
    destination: str = Field(min_length=1, max_length=200, description="出差目的地")
    purpose: str | None = Field(default=None, max_length=500)
    engineer_name: str | None = Field(default=None, max_length=100)
    lines: list[ExpenseLineIn] = Field(default_factory=list, max_length=100)


class ReasonIn(In):
    reason: str = Field(min_length=1, max_length=500)


class SettleIn(In):
    payment_reference: str = Field(
        min_length=1, max_length=100, description="付款凭证号 / bank transfer reference"
    )


class CategoryTotalOut(Out):
    category: str
    label: str
    total: str


class ExpenseLineOut(Out):
    line_no: int
    spent_on: date
    category: str
    category_zh: str
    amount: str
    note: str | None
    ticket_nos: list[str]
    receipts: list[int] = Field(description="ids of the receipts kept for this line")


class ReceiptOut(Out):
    receipt_id: int
    claim_id: int
    line_no: int | None = Field(description="null: for the whole claim")
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


class ExpenseClaimSummaryOut(Out):
    claim_id: int
    claim_no: str
    engineer_id: str
    engineer_name: str | None
    trip_start: date
    trip_end: date
    destination: str
    state: str
    total: str
    submit_due_at: datetime
    overdue: bool
    submitted_at: datetime | None
    settled_at: datetime | None


class ExpenseClaimOut(ExpenseClaimSummaryOut):
    state_zh: str
    purpose: str | None
    due_provisional: bool = Field(
        description="the deadline runs into a year without an official holiday table"
    )
    overdue_at: datetime | None
    late_exception_reason: str | None
    late_exception_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    reject_reason: str | None
    settled_by: str | None
    payment_reference: str | None
    created_at: datetime
    updated_at: datetime
    category_totals: list[CategoryTotalOut]
    lines: list[ExpenseLineOut]
    receipts: list[ReceiptOut]


class ClaimEventOut(Out):
    event_id: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    reason: str | None
