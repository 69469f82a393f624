"""HTTP types of money on a ticket: its coverage (保修/收费), the price list, labour and travel
lines, the quote the customer accepts or declines, and the invoice request made of its lines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from aftersales_shared.schemas import In, Out

from .invoice_schemas import InvoiceEntryOut, InvoiceSummaryOut
from .schemas import Key, PartNo, Price

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
