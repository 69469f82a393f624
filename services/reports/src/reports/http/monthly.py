"""The monthly report over HTTP (admin, manager, service supervisor)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.exports import content_disposition
from aftersales_shared.http import Limit, Offset, PathParameter, QueryParameter
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from .. import render
from ..domain import MONTH_PATTERN, Month, Policy
from ..schemas import PublishedOut, TicketOut
from ..usecases import monthly, publishing
from ..usecases.cache import ReportCache
from ..usecases.monthly import Filters
from ..usecases.publishing import Schedule

READERS = (Role.MANAGER, Role.SERVICE_SUPERVISOR)
MonthPath = Annotated[
    str, PathParameter(pattern=MONTH_PATTERN, description="YYYY-MM, in the business time zone")
]
Text = Annotated[str | None, QueryParameter(max_length=100)]
FORMATS = {
    "html": ("text/html; charset=utf-8", None),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
}
Format = Annotated[
    str, PathParameter(pattern="^(html|csv|xlsx|pdf)$", description="html | csv | xlsx | pdf")
]


class MonthlyController(Controller):
    path = "/reports/monthly"
    tags = ["reports"]
    guards = [requires(*READERS)]

    @get(
        "/{month:str}",
        summary="The monthly after-sales report as data (filters: product line, region, dealer)",
    )
    async def report(
        self,
        rt: NamedDependency[Runtime],
        policy: NamedDependency[Policy],
        report_cache: NamedDependency[ReportCache],
        month: MonthPath,
        product_line: Text = None,
        region: Text = None,
        dealer_id: Text = None,
    ) -> dict[str, Any]:
        filters = Filters(product_line, region, dealer_id)
        async with rt.sessions() as session:
            return await report_cache.monthly(
                session, Month.parse(month), filters, policy, utcnow()
            )

    @get(
        "/{month:str}/tickets",
        summary="The tickets behind one figure of the report (drill-down)",
    )
    async def tickets(
        self,
        rt: NamedDependency[Runtime],
        policy: NamedDependency[Policy],
        month: MonthPath,
        figure: Annotated[
            str,
            QueryParameter(
                min_length=1,
                max_length=300,
                description="a figure's name as the report gives it, e.g. batch:XK-200|B2611",
            ),
        ],
        product_line: Text = None,
        region: Text = None,
        dealer_id: Text = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[TicketOut]:
        filters = Filters(product_line, region, dealer_id)
        async with rt.sessions() as session:
            rows = await monthly.tickets_behind(
                session, Month.parse(month), filters, policy, figure
            )
        items = [TicketOut.model_validate(r) for r in rows[offset : offset + limit]]
        return Page(items=items, total=len(rows), limit=limit, offset=offset)

    @get(
        "/{month:str}/{fmt:str}",
        summary="The monthly report as HTML (charts as inline SVG), CSV, XLSX or PDF (A4)",
        media_type=MediaType.TEXT,
    )
    async def document(
        self,
        rt: NamedDependency[Runtime],
        policy: NamedDependency[Policy],
        report_cache: NamedDependency[ReportCache],
        month: MonthPath,
        fmt: Format,
        product_line: Text = None,
        region: Text = None,
        dealer_id: Text = None,
    ) -> Response[Any]:
        filters = Filters(product_line, region, dealer_id)
        parsed = Month.parse(month)
        async with rt.sessions() as session:
            data = await report_cache.monthly(session, parsed, filters, policy, utcnow())
        return await document_response(data, fmt, f"售后月报-{parsed}")

    @post(
        "/{month:str}/publish",
        summary="Publish a month's report now: kept as a new version and sent (ReportPublished)",
        status_code=201,
    )
    async def publish(
        self,
        rt: NamedDependency[Runtime],
        policy: NamedDependency[Policy],
        schedule: NamedDependency[Schedule],
        month: MonthPath,
        request: Request,
    ) -> PublishedOut:
        async with rt.sessions.begin() as session:
            row = await publishing.publish(
                session,
                Month.parse(month),
                policy,
                schedule,
                utcnow(),
                trigger=publishing.ON_DEMAND,
                by=request.user.subject,
            )
            return PublishedOut.model_validate(row)


async def document_response(data: dict[str, Any], fmt: str, name: str) -> Response[Any]:
    """One report's data as HTML, CSV, XLSX or PDF (rendered off the event loop)."""
    media_type, extension = FORMATS[fmt]
    writer = getattr(render, f"to_{fmt}")
    body = await anyio.to_thread.run_sync(writer, data)
    headers = {}
    if extension:
        headers["Content-Disposition"] = content_disposition(f"{name}.{extension}")
    return Response(body, media_type=media_type, headers=headers)
