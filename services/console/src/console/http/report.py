"""The monthly report (admin, manager, service supervisor): `/reports/{YYYY-MM}` renders the reports
service's data with its figures linked to `/reports/{YYYY-MM}/tickets?figure=…` (the tickets behind
one figure, each linking to the ticket page), and `/reports/{YYYY-MM}/download/{pdf|xlsx|csv}` hands
on the report's file. Every call carries the signed-in user's token (the reports API authorises)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import report as rp
from ..board import REQUEST_TYPES, URGENCY
from ..people import SessionUser
from ..upstream import Upstream
from .pages import current_user, problem, sign_in_again

PAGE = 50
MAX_PAGE = 10_000
FIGURE_MAX = 300


def _reader(request: Request) -> SessionUser | Redirect | Template:
    user = current_user(request)
    if user is None:
        return sign_in_again(request)
    if not user.has(*rp.READERS):
        return problem(
            request,
            403,
            "月度报告仅供管理层和客服主管查看",
            "the monthly report is for managers, service supervisors and admins",
        )
    return user


def _month(request: Request, month: str) -> Template | None:
    if rp.MONTH.fullmatch(month):
        return None
    return problem(request, 400, "月份格式应为 YYYY-MM，例如 2026-10", "a month is YYYY-MM")


def _filters(request: Request) -> dict[str, str] | Template:
    filters = rp.parse_filters(dict(request.query_params))
    if filters is None:
        return problem(
            request,
            400,
            "筛选条件含有不允许的字符或过长",
            "filters: letters, digits, - _ . and spaces, at most 60",
        )
    return filters


def _params(filters: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in filters.items() if v}


def _local(value: Any, tz: ZoneInfo) -> str:
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(str(value)).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


class ReportController(Controller):
    path = "/reports"
    include_in_schema = False

    @get("/")
    async def this_month(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _reader(request)
        if not isinstance(user, SessionUser):
            return user
        today = utcnow().astimezone(ZoneInfo(upstream.settings.business_timezone)).date()
        wanted = request.query_params.get("month") or rp.current_month(today)
        bad = _month(request, wanted)
        return bad or Redirect(f"/reports/{wanted}")

    @get("/{month:str}")
    async def report(
        self, request: Request, month: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _reader(request)
        if not isinstance(user, SessionUser):
            return user
        filters = _filters(request)
        if isinstance(filters, Template):
            return filters
        bad = _month(request, month)
        if bad:
            return bad
        data = await upstream.get(
            "reports", f"/reports/monthly/{month}", user.token, _params(filters)
        )
        page = rp.build(data, month, filters)
        return Template("report.html", context={"user": user, "page": page, "formats": rp.FORMATS})

    @get("/{month:str}/tickets")
    async def tickets(
        self, request: Request, month: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _reader(request)
        if not isinstance(user, SessionUser):
            return user
        filters = _filters(request)
        if isinstance(filters, Template):
            return filters
        bad = _month(request, month)
        if bad:
            return bad
        figure = (request.query_params.get("figure") or "").strip()
        if not figure or len(figure) > FIGURE_MAX:
            return problem(
                request,
                400,
                "请从报告中的数字进入工单列表",
                "figure: a figure's name from the report",
            )
        number = request.query_params.get("page") or "1"
        if not number.isdigit() or not 1 <= int(number) <= MAX_PAGE:
            return problem(request, 400, "页码须为 1 起的整数", "page: a whole number from 1")
        params = _params(filters) | {
            "figure": figure,
            "limit": PAGE,
            "offset": (int(number) - 1) * PAGE,
        }
        listed = await upstream.get(
            "reports", f"/reports/monthly/{month}/tickets", user.token, params
        )
        tz = ZoneInfo(upstream.settings.business_timezone)
        rows = [
            {
                **item,
                "opened_at": _local(item.get("opened_at"), tz),
                "request_type": REQUEST_TYPES.get(item.get("request_type") or "", None)
                or item.get("request_type"),
                "urgency": URGENCY.get(item.get("urgency") or "", None) or item.get("urgency"),
            }
            for item in listed.get("items", [])
        ]
        total = int(listed.get("total", len(rows)))
        page = rp.build({}, month, filters)
        return Template(
            "report_tickets.html",
            context={
                "user": user,
                "page": page,
                "figure": figure,
                "rows": rows,
                "total": total,
                "number": int(number),
                "pages": max(1, -(-total // PAGE)),
                "columns": rp.TICKET_COLUMNS,
            },
        )

    @get("/{month:str}/download/{fmt:str}")
    async def download(
        self, request: Request, month: str, fmt: str, upstream: NamedDependency[Upstream]
    ) -> Response[bytes] | Template | Redirect:
        user = _reader(request)
        if not isinstance(user, SessionUser):
            return user
        filters = _filters(request)
        if isinstance(filters, Template):
            return filters
        bad = _month(request, month)
        if bad:
            return bad
        if fmt not in rp.FORMATS:
            return problem(request, 404, "没有这种格式：可下载 PDF、XLSX、CSV", "pdf, xlsx or csv")
        answer = await upstream.raw(
            "reports",
            "GET",
            f"/reports/monthly/{month}/{fmt}",
            user.token,
            params=_params(filters),
        )
        headers = {"Content-Disposition": answer.headers.get("content-disposition", "attachment")}
        return Response(
            answer.content,
            media_type=answer.headers.get("content-type", "application/octet-stream"),
            headers=headers,
        )
