"""Published reports: each month's report as it was sent, in every format (same readers)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.http import Limit, Offset, PathParameter, QueryParameter
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..domain import MONTH_PATTERN
from ..schemas import PublishedOut, PublishedReportOut
from ..usecases import publishing
from .monthly import READERS, Format, document_response

ReportId = Annotated[str, PathParameter(min_length=1, max_length=64)]


class PublishedController(Controller):
    path = "/reports/published"
    tags = ["reports"]
    guards = [requires(*READERS)]

    @get("/", summary="Published reports, newest month and version first (filter: month)")
    async def index(
        self,
        rt: NamedDependency[Runtime],
        month: Annotated[
            str | None, QueryParameter(pattern=MONTH_PATTERN, description="YYYY-MM")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[PublishedOut]:
        async with rt.sessions() as session:
            rows, total = await publishing.published(session, month, limit, offset)
            items = [PublishedOut.model_validate(r) for r in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{report_id:str}", summary="A published report with its figures as they were sent")
    async def one(self, rt: NamedDependency[Runtime], report_id: ReportId) -> PublishedReportOut:
        async with rt.sessions() as session:
            row = await publishing.get_published(session, report_id)
            return PublishedReportOut.model_validate(row)

    @get(
        "/{report_id:str}/{fmt:str}",
        summary="A published report as HTML, CSV, XLSX or PDF, as it was sent",
        media_type=MediaType.TEXT,
    )
    async def document(
        self, rt: NamedDependency[Runtime], report_id: ReportId, fmt: Format
    ) -> Response[Any]:
        async with rt.sessions() as session:
            row = await publishing.get_published(session, report_id)
        data: dict[str, Any] = json.loads(row.report)
        return await document_response(data, fmt, f"售后月报-{row.month}-v{row.version}")
