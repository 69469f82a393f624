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
    InvoiceIssuedIn,
    InvoiceRegisterOut,
    InvoiceSummaryOut,
    InvoiceSumsOut,
    Status,
)
from ..schemas import InvoiceOut
from ..settings import PartsSettings
from ..usecases import invoice_register as reg
from .excel import MAX_EXPORT, XLSX, _xlsx

StatusFilter = Annotated[
    Status | None, QueryParameter(name="status", description="requested (待开票) | issued (已开票)")
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


class InvoiceRegisterController(Controller):
    path = "/invoices"
    tags = ["money"]

    @get(
        "/",
        guards=[requires(*v.REGISTRARS)],
        summary="The invoice register: requests newest first, filtered by status, the days they "
        "were requested (business time zone), buyer name or tax number and ticket; the sums "
        "(net, tax, total) of every request the filters match",
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
            rows, sums = await reg.register(s, f, tz, request.user, limit, offset)
            return InvoiceRegisterOut(
                items=[InvoiceSummaryOut.model_validate(r) for r in rows],
                total=sums.count,
                limit=limit,
                offset=offset,
                sums=InvoiceSumsOut(net_amount=sums.net, tax_amount=sums.tax, total=sums.total),
            )

    @get(
        "/export.xlsx",
        guards=[requires(*v.REGISTRARS)],
        summary="The register as .xlsx with the same filters (amounts as numbers)",
        media_type=XLSX,
    )
    async def export(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        request: Request,
        invoice_status: StatusFilter = None,
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
