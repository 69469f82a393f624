"""The invoice register (`/invoices`, 发票登记): finance's list of invoice requests with filters,
pages, the sums of the live requests and apart those withdrawn or reversed, its Excel export; on
each request still waiting a form to register the issued invoice's number and date and one to
withdraw it (撤回), on each issued one a form to reverse it by a red-letter invoice (红冲). Every
call goes to the parts API as the signed-in user; parts decides who may and what is valid."""

from __future__ import annotations

import re
from collections.abc import Callable
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
from .pages import flash, problem, refusal, signed_in, take_flash
from .stock import XLSX

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
INVOICE_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")


def _registrar(request: Request) -> SessionUser | Redirect | Template:
    zh = "发票登记仅限财务、客服主管和管理层"
    return signed_in(request, *inv.REGISTRARS, zh=zh, en="the invoice register is finance's")


async def _page(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    query: inv.InvoiceQuery,
    said: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    """The register; `said` is a refused form (its row, which form, parts' words, what was typed)
    shown at its row."""
    size = upstream.settings.page_size
    found = await upstream.get("parts", "/v2/invoices", user.token, query.api_params(size))
    tz = ZoneInfo(upstream.settings.business_timezone)
    total = int(found.get("total", 0))
    return Template(
        "invoices.html",
        context={
            "user": user,
            "f": query,
            "rows": inv.rows(found.get("items", []), tz),
            "sums": found.get("sums") or {},
            "voided": found.get("voided") or {},
            "voided_count": int(found.get("voided_count", 0)),
            "reasons": inv.REASONS,
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
        user = _registrar(request)
        if not isinstance(user, SessionUser):
            return user
        try:
            query = inv.parse_query(dict(request.query_params))
        except FormError as exc:
            return problem(request, 400, str(exc), "fix the filter")
        return await _page(request, upstream, user, query)

    @get("/export.xlsx")
    async def export(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Response[bytes] | Template | Redirect:
        user = _registrar(request)
        if not isinstance(user, SessionUser):
            return user
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
        return await _act(request, upstream, invoice_id, data, "issue")

    @post("/{invoice_id:str}/cancel")
    async def cancel(
        self, request: Request, invoice_id: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        return await _act(request, upstream, invoice_id, data, "cancel")

    @post("/{invoice_id:str}/reverse")
    async def reverse(
        self, request: Request, invoice_id: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        return await _act(request, upstream, invoice_id, data, "reverse")


def _number(code: str | None, number: str | None) -> str:
    return "-".join(x for x in (code, number) if x)


def _issued(done: dict[str, Any]) -> str:
    number = _number(done.get("invoice_code"), done["invoice_number"])
    return f"已登记工单 {done['ticket_no']} 的发票 {number}（开票日期 {done['issue_date']}）"


def _withdrawn(done: dict[str, Any]) -> str:
    return f"已撤回工单 {done['ticket_no']} 的开票申请，可为该工单重新申请开票"


def _reversed(done: dict[str, Any]) -> str:
    red = _number(done.get("red_invoice_code"), done["red_invoice_number"])
    return (
        f"已红冲工单 {done['ticket_no']} 的发票 "
        f"{_number(done.get('invoice_code'), done.get('invoice_number'))}，红字发票 {red}"
        f"（开票日期 {done['red_issue_date']}）"
    )


# per form: the body it makes, the fields kept when refused (with their limits), what is said
ACTIONS: dict[str, tuple[Callable[[dict[str, str]], dict[str, Any]], dict[str, int], Any]] = {
    "issue": (
        inv.registration,
        {"invoice_number": 40, "invoice_code": 40, "issue_date": 10},
        _issued,
    ),
    "cancel": (inv.withdrawal, {"reason": 500}, _withdrawn),
    "reverse": (
        inv.reversal,
        {
            "red_invoice_number": 40,
            "red_invoice_code": 40,
            "red_issue_date": 10,
            "reason": 20,
            "note": 500,
        },
        _reversed,
    ),
}


async def _act(
    request: Request, upstream: Upstream, invoice_id: str, data: dict[str, str], action: str
) -> Template | Redirect:
    """One row's form sent to parts; back to the same filtered page (post/redirect/get), or the
    page again with parts' refusal in its words at the row and what was typed kept."""
    user = _registrar(request)
    if not isinstance(user, SessionUser):
        return user
    try:
        query = inv.parse_query(dict(request.query_params))
    except FormError:
        query = inv.InvoiceQuery()
    if not INVOICE_ID.fullmatch(invoice_id):
        return problem(request, 404, "没有这张开票申请", "no such invoice request")
    build, kept, said_done = ACTIONS[action]
    typed = {k: (data.get(k) or "")[:limit] for k, limit in kept.items()}
    try:
        body = build(data)
        done = await upstream.post("parts", f"/invoices/{invoice_id}/{action}", user.token, body)
    except (FormError, UpstreamError) as exc:
        status, text = refusal(exc, form_status=422)
        said = {"id": invoice_id, "form": action, "text": text, "values": typed}
        return await _page(request, upstream, user, query, said, status)
    flash(request, "ok", said_done(done))
    return Redirect(query.link())
