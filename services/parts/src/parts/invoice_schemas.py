"""HTTP types of the invoice register (发票登记簿): a request as finance lists it, the page with
the sums of everything the filters match, and the registration of an issued invoice."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from aftersales_shared.schemas import In, Out

Status = Literal["requested", "issued"]


class InvoiceSummaryOut(Out):
    invoice_id: str
    ticket_no: str
    quote_no: str | None
    invoice_type: str
    buyer_name: str
    buyer_tax_no: str
    buyer_address_phone: str | None
    buyer_bank_account: str | None
    net_amount: Decimal
    tax_rate: Decimal
    tax_amount: Decimal
    total: Decimal
    requested_at: datetime
    requested_by: str
    status: Status = Field(description="requested (待开票) | issued (已开票)")
    invoice_code: str | None = Field(description="发票代码 of a paper invoice")
    invoice_number: str | None = Field(description="发票号码 (20 digits 数电, 8 with a code)")
    issue_date: date | None = Field(description="开票日期 (business time zone)")
    issued_at: datetime | None = Field(description="when the invoice was registered")
    issued_by: str | None = Field(description="who registered it")


class InvoiceSumsOut(Out):
    net_amount: Decimal
    tax_amount: Decimal
    total: Decimal


class InvoiceRegisterOut(Out):
    """One page of the register, how many requests match in all and their sums."""

    items: list[InvoiceSummaryOut]
    total: int
    limit: int
    offset: int
    sums: InvoiceSumsOut


class InvoiceIssuedIn(In):
    invoice_number: str = Field(
        min_length=1,
        max_length=40,
        description="数电发票号码 (20 digits), or a paper invoice 发票号码 (8) with its code",
    )
    invoice_code: str | None = Field(
        default=None, max_length=40, description="发票代码 (10 or 12 digits), paper invoices only"
    )
    issue_date: date = Field(description="开票日期: not in the future, not before the request")
