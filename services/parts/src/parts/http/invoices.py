"""The invoice register over HTTP (发票登记簿): finance's list with filters, pages and sums, its
Excel export, and registering the invoice finance issued for a request."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import JSONBody, Limit, Offset
from aftersales_shared.service import Runtime
from aftersales_shared.xlsx import workbook_bytes

from .. import invoicing as v
from ..invoice_schemas import (
    AnyStatus,
    InvoiceCancelIn,
    InvoiceEntryOut,
    InvoiceIssuedIn,
    InvoiceRegisterOut,
    InvoiceRegisterV2Out,
    InvoiceReverseIn,
    InvoiceSummaryOut,
    InvoiceSumsOut,
    Status,
)
from ..money_schemas import InvoiceOut, InvoiceRecordOut
from ..settings import PartsSettings
from ..usecases import invoice_cancel as undo
from ..usecases import invoice_register as reg
from .excel import MAX_EXPORT, XLSX, _xlsx

StatusFilter = Annotated[
    Status | None, QueryParameter(name="status", description="requested (待开票) | issued (已开票)")
]
AnyStatusFilter = Annotated[
    AnyStatus | None,
    QueryParameter(
        name="status",
        description="requested (待开票) | issued (已开票) | cancelled (已撤回) | reversed (已红冲)",
    ),
]
Day = Annotated[
    date | None, QueryParameter(description="a day in the business time zone (YYYY-MM-DD)")
]
Search = Annotated[
    str | None,
    QueryParameter(max_length=100, description="part of the buyer's name, or its tax number"),
]
TicketFilter = Annotated[str | None, QueryParameter(max_length=100, description="工单号 (part)")]
InvoiceId = Annotated[str, PathParameter(min_length=1, max_length=36, description="开票申请编号")]
REPLAYED = "Idempotent-Replayed"


def _filter(
    status: str | None,
    requested_from: date | None,
    requested_to: date | None,
    q: str | None,
    ticket_no: str | None,
) -> reg.RegisterFilter:
    return reg.RegisterFilter(status, requested_from, requested_to, q, ticket_no)


def _sums(sums: reg.Sums) -> InvoiceSumsOut:
    return InvoiceSumsOut(net_amount=sums.net, tax_amount=sums.tax, total=sums.total)


class InvoiceRegisterV2Controller(Controller):
    path = "/v2/invoices"
    tags = ["money"]

    @get(
        "/",
        guards=[requires(*v.REGISTRARS)],
        summary="The invoice register in every state (v2): requests newest first, filtered as "
        "v1 and by the states cancelled (已撤回) and reversed (已红冲); `sums` of the live "
        "requests the filters match (requested, issued) and `voided` of the withdrawn and "
        "reversed ones apart — those are not invoiced",
    )
    async def list_invoices(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        request: Request,
        invoice_status: AnyStatusFilter = None,
        requested_from: Day = None,
        requested_to: Day = None,
        q: Search = None,
        ticket_no: TicketFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> InvoiceRegisterV2Out:
        f = _filter(invoice_status, requested_from, requested_to, q, ticket_no)
        tz = ZoneInfo(settings.business_timezone)
        async with rt.sessions() as s:
            page = await reg.register(s, f, tz, request.user, limit, offset)
            return InvoiceRegisterV2Out(
                items=[InvoiceEntryOut.model_validate(r) for r in page.rows],
                total=page.count,
                limit=limit,
                offset=offset,
                sums=_sums(page.live),
                voided=_sums(page.voided),
                voided_count=page.voided.count,
            )


class InvoiceRegisterController(Controller):
    path = "/invoices"
    tags = ["money"]

    @get(
        "/",
        guards=[requires(*v.REGISTRARS)],
        summary="The invoice register (v1: the live requests, requested or issued; /v2/invoices "
        "has every state): requests newest first, filtered by status, the days they were "
        "requested (business time zone), buyer name or tax number and ticket; the sums (net, "
        "tax, total) of every request the filters match",
    )
    async def list_invoices(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        request: Request,
        invoice_status: StatusFilter = None,
        requested_from: Day = None,
        requested_to: Day = None,
        q: Search = None,
        ticket_no: TicketFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> InvoiceRegisterOut:
        f = _filter(invoice_status, requested_from, requested_to, q, ticket_no)
        tz = ZoneInfo(settings.business_timezone)
        async with rt.sessions() as s:
            page = await reg.register(s, f, tz, request.user, limit, offset, live_only=True)
            return InvoiceRegisterOut(
                items=[InvoiceSummaryOut.model_validate(r) for r in page.rows],
                total=page.count,
                limit=limit,
                offset=offset,
                sums=_sums(page.live),
            )

    @get(
        "/export.xlsx",
        guards=[requires(*v.REGISTRARS)],
        summary="The register as .xlsx with the same filters as /v2/invoices, every state and "
        "the red invoices (amounts as numbers; withdrawn and reversed rows say so in 状态)",
        media_type=XLSX,
    )
    async def export(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        request: Request,
        invoice_status: AnyStatusFilter = None,
        requested_from: Day = None,
        requested_to: Day = None,
        q: Search = None,
        ticket_no: TicketFilter = None,
    ) -> Response[Any]:
        f = _filter(invoice_status, requested_from, requested_to, q, ticket_no)
        tz = ZoneInfo(settings.business_timezone)
        async with rt.sessions() as s:
            rows = await reg.export_rows(s, f, tz, request.user, MAX_EXPORT)
        cells = reg.register_cells(rows, tz)
        content = workbook_bytes("发票登记", reg.REGISTER_HEADER, cells)
        return _xlsx(content, "发票登记簿.xlsx")

    @post(
        "/{invoice_id:str}/issue",
        guards=[requires(*v.REGISTRARS)],
        summary="Register the invoice finance issued: 20-digit 数电 number, or a paper invoice's "
        "code (10/12 digits) and number (8); the issue date (not future, not before the "
        "request). Once: the same again answers 200 with Idempotent-Replayed, another 409. "
        "InvoiceIssued",
        status_code=200,
    )
    async def issue(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        invoice_id: InvoiceId,
        data: JSONBody[InvoiceIssuedIn],
        request: Request,
    ) -> Response[InvoiceOut]:
        issued = reg.Issued(data.invoice_number, data.issue_date, data.invoice_code)
        tz = ZoneInfo(settings.business_timezone)
        async with rt.sessions.begin() as s:
            row, changed = await reg.register_issued(
                s, invoice_id, issued, tz, request.user, utcnow()
            )
            out = InvoiceOut.model_validate(row)
        return Response(out, headers={REPLAYED: "false" if changed else "true"})

    @post(
        "/{invoice_id:str}/cancel",
        guards=[requires(*v.REGISTRARS)],
        summary="Withdraw a request not yet issued (撤回, a reason of 2–500 characters): status "
        "cancelled, the ticket may be invoiced anew. The same again answers 200 with "
        "Idempotent-Replayed; another reason, or a request in another status, 409. "
        "InvoiceCancelled",
        status_code=200,
    )
    async def cancel(
        self,
        rt: NamedDependency[Runtime],
        invoice_id: InvoiceId,
        data: JSONBody[InvoiceCancelIn],
        request: Request,
    ) -> Response[InvoiceRecordOut]:
        async with rt.sessions.begin() as s:
            row, changed = await undo.withdraw(s, invoice_id, data.reason, request.user, utcnow())
            out = InvoiceRecordOut.model_validate(row)
        return Response(out, headers={REPLAYED: "false" if changed else "true"})

    @post(
        "/{invoice_id:str}/reverse",
        guards=[requires(*v.REGISTRARS)],
        summary="Reverse an issued invoice by a red-letter invoice (红冲): its number (rules as "
        "for issue, unique in the register), its date (not before the invoice's, not in the "
        "future) and the reason: status reversed, the ticket may be invoiced anew. The same "
        "again answers 200 with Idempotent-Replayed; anything else, or another status, 409. "
        "InvoiceCancelled",
        status_code=200,
    )
    async def reverse(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        invoice_id: InvoiceId,
        data: JSONBody[InvoiceReverseIn],
        request: Request,
    ) -> Response[InvoiceRecordOut]:
        red = undo.Red(
            data.red_invoice_number,
            data.red_issue_date,
            data.reason,
            data.red_invoice_code,
            data.note,
        )
        tz = ZoneInfo(settings.business_timezone)
        async with rt.sessions.begin() as s:
            row, changed = await undo.reverse(s, invoice_id, red, tz, request.user, utcnow())
            out = InvoiceRecordOut.model_validate(row)
        return Response(out, headers={REPLAYED: "false" if changed else "true"})
