"""HTTP types of the invoice register (发票登记簿): a request as finance lists it, the page with
the sums of everything the filters match, the registration of an issued invoice, withdrawing a
request and reversing an invoice by a red-letter one (红冲). v1 answers know the live states only
(requested, issued); /v2/invoices and the cancel/reverse answers know all four."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from aftersales_shared.schemas import In, Out

Status = Literal["requested", "issued"]  # v1: the live requests only
AnyStatus = Literal["requested", "issued", "cancelled", "reversed"]
ReversalReason = Literal["billing_error", "sales_return", "service_stopped", "sales_allowance"]


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


class InvoiceEntryOut(InvoiceSummaryOut):
    """A request in any state (v2): withdrawn and reversed ones with who, when, why and the red
    invoice."""

    status: AnyStatus = Field(  # type: ignore[assignment]
        description="requested (待开票) | issued (已开票) | cancelled (已撤回) | reversed (已红冲)"
    )
    cancelled_at: datetime | None = Field(description="when withdrawn or reversed")
    cancelled_by: str | None = Field(description="who withdrew or reversed it")
    cancel_reason: str | None = Field(
        description="withdrawn: the reason typed; reversed: billing_error (开票有误), "
        "sales_return (销货退回), service_stopped (服务中止) or sales_allowance (销售折让)"
    )
    cancel_note: str | None = Field(description="the reversal's note")
    red_invoice_code: str | None = Field(description="红字发票代码 (paper)")
    red_invoice_number: str | None = Field(description="红字发票号码")
    red_issue_date: date | None = Field(description="红字发票开票日期")


class InvoiceRegisterV2Out(Out):
    """One page of the register in every state and how many match in all; `sums` of the live
    requests (requested, issued) and `voided` of the withdrawn and reversed ones apart: they are
    not invoiced and never counted in `sums`."""

    items: list[InvoiceEntryOut]
    total: int
    limit: int
    offset: int
    sums: InvoiceSumsOut
    voided: InvoiceSumsOut
    voided_count: int


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


class InvoiceCancelIn(In):
    reason: str = Field(
        min_length=1, max_length=500, description="撤回原因 (2–500 characters, kept on the row)"
    )


class InvoiceReverseIn(In):
    red_invoice_number: str = Field(
        min_length=1,
        max_length=40,
        description="红字发票号码: 20 digits (数电, starting with the red invoice's year), or a "
        "paper invoice's 8 with its code",
    )
    red_invoice_code: str | None = Field(
        default=None, max_length=40, description="红字发票代码 (10 or 12 digits), paper only"
    )
    red_issue_date: date = Field(
        description="红字发票开票日期: not before the reversed invoice's date, not in the future"
    )
    reason: ReversalReason = Field(
        description="billing_error (开票有误) | sales_return (销货退回) | service_stopped "
        "(服务中止) | sales_allowance (销售折让)"
    )
    note: str | None = Field(default=None, max_length=500, description="备注")
