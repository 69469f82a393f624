"""Working-time calendars over HTTP: hours, year tables (import, export), who changed what."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, put
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.exports import content_disposition
from aftersales_shared.http import FromPath, JSONBody, Limit, Offset, Year
from aftersales_shared.service import Runtime

from ..schemas import CalendarIn, CalendarOut, YearImportOut
from ..settings import TicketsSettings
from ..usecases import calendars
from .roles import READERS


class CalendarController(Controller):
    path = "/calendars"
    tags = ["calendars"]

    @get("/", guards=[requires(*READERS)], summary="Working-time calendars")
    async def list_(self, rt: NamedDependency[Runtime]) -> list[CalendarOut]:
        async with rt.sessions() as session:
            views = await calendars.list_calendars(session)
        return [CalendarOut.model_validate(v, from_attributes=True) for v in views]

    @put(
        "/{calendar_id:str}",
        guards=[requires(Role.ADMIN)],
        summary="Create or change a calendar's hours",
    )
    async def upsert(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        calendar_id: FromPath[str],
        data: JSONBody[CalendarIn],
        request: Request,
    ) -> CalendarOut:
        command = calendars.CalendarHours(**data.model_dump(mode="json"))
        async with rt.sessions.begin() as session:
            row = await calendars.update_hours(
                session, calendar_id, command, request.user.subject, utcnow(), settings
            )
            return CalendarOut.model_validate(row, from_attributes=True)

    @put(
        "/{calendar_scope:str}/years/{year:int}",
        guards=[requires(Role.ADMIN)],
        summary="Import a year's table (CSV or YAML)",
    )
    async def import_year(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        calendar_scope: FromPath[str],
        year: Year,
        request: Request,
        format: Annotated[str | None, QueryParameter(pattern="^(csv|yaml)$")] = None,
    ) -> YearImportOut:
        fmt = format or ("yaml" if "yaml" in request.headers.get("content-type", "") else "csv")
        content = await request.body()
        async with rt.sessions.begin() as session:
            entries, count, changed = await calendars.import_year(
                session,
                calendar_scope,
                year,
                content,
                fmt,
                request.user.subject,
                utcnow(),
                settings,
            )
        return YearImportOut(
            scope=calendar_scope,
            year=year,
            entries=entries,
            clocks_recomputed=count,
            deadlines_changed=changed,
        )

    @get(
        "/audit",
        guards=[requires(Role.ADMIN, Role.SERVICE_SUPERVISOR)],
        summary="Who changed which calendar and year",
    )
    async def audit(
        self, rt: NamedDependency[Runtime], limit: Limit = 50, offset: Offset = 0
    ) -> list[dict[str, Any]]:
        async with rt.sessions() as session:
            rows = await calendars.audit(session, limit, offset)
        return [
            {
                "scope": r.scope,
                "year": r.year,
                "action": r.action,
                "actor": r.actor,
                "at": r.at,
                "detail": r.detail,
            }
            for r in rows
        ]

    @get(
        "/{calendar_scope:str}/years/{year:int}",
        guards=[requires(*READERS)],
        summary="Export a year's table (CSV or YAML)",
    )
    async def export_year(
        self,
        rt: NamedDependency[Runtime],
        calendar_scope: FromPath[str],
        year: Year,
        format: Annotated[str, QueryParameter(pattern="^(csv|yaml)$")] = "csv",
    ) -> Response[str]:
        async with rt.sessions() as session:
            text, source = await calendars.export_year(session, calendar_scope, year, format)
        media = "text/csv" if format == "csv" else "application/yaml"
        return Response(
            text,
            media_type=media,
            headers={
                "X-Calendar-Source": source,
                "Content-Disposition": content_disposition(f"{calendar_scope}-{year}.{format}"),
            },
        )
