"""The invoice register (`/invoices`, 发票登记): finance's list of invoice requests with filters,
pages and the sums of everything filtered, its Excel export, and on each request still waiting a
form to register the issued invoice's number and date. Every call goes to the parts API as the
signed-in user; parts decides who may and what is a valid number."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template

from .. import invoices as inv
from ..forms import FormError
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash
from .stock import XLSX

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
INVOICE_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")


def _refused(request: Request) -> Template:
    return problem(
        request, 403, "发票登记仅限财务、客服主管和管理层", "the invoice register is finance's"
    )


async def _page(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    query: inv.InvoiceQuery,
    said: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    """The register; `said` is a refused registration shown at its row with what was typed."""
    size = upstream.settings.page_size
    found = await upstream.get("parts", "/invoices", user.token, query.api_params(size))
    tz = ZoneInfo(upstream.settings.business_timezone)
    total = int(found.get("total", 0))
    return Template(
        "invoices.html",
        context={
            "user": user,
            "f": query,
            "rows": inv.rows(found.get("items", []), tz),
            "sums": found.get("sums") or {},
            "total": total,
            "pages": max(1, -(-total // size)),
            "statuses": inv.STATUSES,
            "ticket_link": user.has(*inv.TICKET_READERS),
            "said": said or {},
            "today": datetime.now(tz).date().isoformat(),
            "flash": take_flash(request),
        },
        status_code=status_code,
    )


class InvoicesController(Controller):
    path = "/invoices"
    include_in_schema = False

    @get("/")
    async def register(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*inv.REGISTRARS):
            return _refused(request)
        try:
            query = inv.parse_query(dict(request.query_params))
        except FormError as exc:
            return problem(request, 400, str(exc), "fix the filter")
        return await _page(request, upstream, user, query)

    @get("/export.xlsx")
    async def export(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Response[bytes] | Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*inv.REGISTRARS):
            return _refused(request)
        try:
            query = inv.parse_query(dict(request.query_params))
        except FormError as exc:
            return problem(request, 400, str(exc), "fix the filter")
        answer = await upstream.raw(
            "parts", "GET", "/invoices/export.xlsx", user.token, params=query.filters()
        )
        headers = {"Content-Disposition": answer.headers.get("content-disposition", "attachment")}
        return Response(answer.content, media_type=XLSX, headers=headers)

    @post("/{invoice_id:str}/issue")
    async def issue(
        self, request: Request, invoice_id: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        """Register the issued invoice; back to the same filtered page (post/redirect/get), or
        the page again with parts' refusal in its words at the row and what was typed kept."""
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*inv.REGISTRARS):
            return _refused(request)
        try:
            query = inv.parse_query(dict(request.query_params))
        except FormError:
            query = inv.InvoiceQuery()
        if not INVOICE_ID.fullmatch(invoice_id):
            return problem(request, 404, "没有这张开票申请", "no such invoice request")
        typed = {k: (data.get(k) or "")[:40] for k in ("invoice_number", "invoice_code")}
        typed["issue_date"] = (data.get("issue_date") or "")[:10]
        try:
            body = inv.registration(data)
            done = await upstream.post("parts", f"/invoices/{invoice_id}/issue", user.token, body)
        except FormError as exc:
            said = {"id": invoice_id, "text": str(exc), "values": typed}
            return await _page(request, upstream, user, query, said, 422)
        except UpstreamError as exc:
            if not 400 <= exc.status < 500 or exc.status in (401, 404):
                raise
            said = {"id": invoice_id, "text": exc.detail, "values": typed}
            return await _page(request, upstream, user, query, said, exc.status)
        number = "-".join(x for x in (done.get("invoice_code"), done["invoice_number"]) if x)
        said = f"已登记工单 {done['ticket_no']} 的发票 {number}（开票日期 {done['issue_date']}）"
        flash(request, "ok", said)
        return Redirect(query.link())
