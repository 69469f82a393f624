"""The engineer roster (issue #21): the engineers dispatch may choose with their open tickets (the
console's picker: active and not on leave, least loaded first), and the roster supervisors and
admins keep: add, edit, deactivate, leave, its history, Excel import and export."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.exports import content_disposition
from aftersales_shared.http import FromPath, JSONBody, Limit, Offset, bounded_body
from aftersales_shared.service import Runtime
from aftersales_shared.xlsx import XLSX

from .. import roster
from ..schemas import (
    AuditEntryOut,
    AuditPage,
    EngineerImportOut,
    EngineerIn,
    EngineerOut,
    EngineerPatch,
    LeaveIn,
)
from ..settings import TicketsSettings
from ..usecases import engineers, roster_excel

# the picker and the roster are read by the desk and management; supervisors (and admins, who
# pass every guard) keep the roster
READ = (Role.SERVICE_SUPERVISOR, Role.SERVICE_AGENT, Role.MANAGER)
KEEP = (Role.SERVICE_SUPERVISOR,)
OVERSEE = (Role.SERVICE_SUPERVISOR, Role.MANAGER)


def _tz(settings: TicketsSettings) -> ZoneInfo:
    return ZoneInfo(settings.business_timezone)


class EngineerController(Controller):
    path = "/engineers"
    tags = ["dispatch"]

    @get(
        "/",
        guards=[requires(*READ)],
        summary="Engineers to dispatch to: name, region, open tickets (least loaded first); "
        "include_inactive=true: the whole roster (deactivated and on leave too)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        q: Annotated[str, QueryParameter(max_length=60)] = "",
        region: Annotated[str | None, QueryParameter(max_length=100)] = None,
        active: Annotated[bool | None, QueryParameter(description="true: active only")] = None,
        available: Annotated[
            bool | None, QueryParameter(description="true: dispatchable now (not on leave)")
        ] = None,
        include_inactive: Annotated[
            bool, QueryParameter(description="the whole roster, deactivated and on leave too")
        ] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
        offset: Offset = 0,
    ) -> list[EngineerOut]:
        wanted = engineers.Filters(q, region, active, available, include_inactive, limit, offset)
        async with rt.sessions() as session:
            found = await engineers.engineers(session, wanted, utcnow(), _tz(settings))
        return [EngineerOut.model_validate(e) for e in found]

    @post("/", guards=[requires(*KEEP)], summary="Add an engineer to the roster", status_code=201)
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        data: JSONBody[EngineerIn],
        request: Request,
    ) -> EngineerOut:
        checked = roster.check(data.id, data.name, data.region, data.phone, data.skills)
        now = utcnow()
        async with rt.sessions.begin() as session:
            await engineers.create(session, checked, request.user, now)
            return EngineerOut.model_validate(
                await engineers.one(session, checked.id, now, _tz(settings))
            )

    @get(
        "/export.xlsx",
        guards=[requires(*OVERSEE)],
        summary="The roster as .xlsx (the import's columns)",
        media_type=XLSX,
    )
    async def export(
        self, rt: NamedDependency[Runtime], settings: NamedDependency[TicketsSettings]
    ) -> Response[Any]:
        async with rt.sessions() as session:
            content = await roster_excel.export_roster(session, utcnow(), _tz(settings))
        disposition = content_disposition("工程师名单.xlsx")
        return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})

    @post(
        "/import",
        guards=[requires(*KEEP)],
        summary="Import a directory export (.xlsx body: 账号/sub, 姓名/name, 区域/region, "
        "手机号/phone, 技能/skills): every wrong row by its line, nothing written unless all "
        "are right",
        status_code=200,
        request_max_body_size=None,  # bounded below, refused in Chinese
    )
    async def import_(self, rt: NamedDependency[Runtime], request: Request) -> EngineerImportOut:
        content = await bounded_body(request, roster_excel.MAX_IMPORT_BYTES, roster_excel.too_large)
        async with rt.sessions.begin() as session:
            done = await roster_excel.import_roster(session, content, request.user, utcnow())
        return EngineerImportOut(**done)

    @get("/{sub:str}", guards=[requires(*READ)], summary="One engineer with open tickets")
    async def one(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        sub: FromPath[str],
    ) -> EngineerOut:
        async with rt.sessions() as session:
            found = await engineers.one(session, sub, utcnow(), _tz(settings))
        return EngineerOut.model_validate(found)

    @patch(
        "/{sub:str}",
        guards=[requires(*KEEP)],
        summary="Change name, region, phone, skills; active=false deactivates (never deleted)",
    )
    async def update(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        sub: FromPath[str],
        data: JSONBody[EngineerPatch],
        request: Request,
    ) -> EngineerOut:
        now = utcnow()
        async with rt.sessions.begin() as session:
            wanted = data.model_dump(exclude_unset=True)
            await engineers.update(session, sub, wanted, request.user, now)
            return EngineerOut.model_validate(await engineers.one(session, sub, now, _tz(settings)))

    @post(
        "/{sub:str}/leave",
        guards=[requires(*KEEP)],
        summary="On leave until a day (inclusive; not offered by the picker, their tickets stay) "
        "or back",
        status_code=200,
    )
    async def leave(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        sub: FromPath[str],
        data: JSONBody[LeaveIn],
        request: Request,
    ) -> EngineerOut:
        now, tz = utcnow(), _tz(settings)
        async with rt.sessions.begin() as session:
            await engineers.set_leave(
                session, sub, data.on_leave, data.until, request.user, now, tz
            )
            return EngineerOut.model_validate(await engineers.one(session, sub, now, tz))

    @get(
        "/{sub:str}/history",
        guards=[requires(*OVERSEE)],
        summary="Who changed this engineer's record, when and what, newest first",
    )
    async def history(
        self,
        rt: NamedDependency[Runtime],
        sub: FromPath[str],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AuditPage:
        async with rt.sessions() as session:
            rows, total = await engineers.history(session, sub, limit, offset)
        return AuditPage(
            items=[AuditEntryOut.model_validate(r, from_attributes=True) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )
