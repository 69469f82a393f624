"""The duty rota: who hears a group's `duty:` alerts outside working time (a 特急 ticket at 22:00
on a holiday goes to the supervisor on duty, not to every supervisor)."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import At, FromPath, FromQuery, JSONBody, Limit, Offset, RowId
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas import DutyShiftIn, DutyShiftOut, OnDutyOut, RecipientOut
from ..settings import NotificationsSettings
from ..usecases import rota
from .access import READERS, WRITERS


class RotaController(Controller):
    path = "/duty-shifts"
    tags = ["duty rota"]

    @post("/", guards=[requires(*WRITERS)], summary="Put someone on duty for a group (a shift)")
    async def create(
        self, rt: NamedDependency[Runtime], data: JSONBody[DutyShiftIn], request: Request
    ) -> DutyShiftOut:
        shift = rota.NewShift(**data.model_dump())
        async with rt.sessions.begin() as session:
            row = await rota.add_shift(session, shift, request.user, utcnow())
            return DutyShiftOut.model_validate(row)

    @get("/", guards=[requires(*READERS)], summary="Shifts of the rota (filters, pagination)")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        group: FromQuery[str | None] = None,
        recipient_id: FromQuery[str | None] = None,
        at: At = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[DutyShiftOut]:
        async with rt.sessions() as session:
            rows, total = await rota.list_shifts(session, group, recipient_id, at, limit, offset)
        return Page[DutyShiftOut](
            items=[DutyShiftOut.model_validate(r) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    @get(
        "/on-duty",
        guards=[requires(*READERS)],
        summary="Who hears a duty:<group> alert at a moment (working time: the whole group)",
    )
    async def on_duty(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[NotificationsSettings],
        group: FromQuery[str],
        at: At = None,
    ) -> OnDutyOut:
        when = at or utcnow()
        async with rt.sessions() as session:
            working, rows = await rota.on_duty(session, settings, group, when)
        return OnDutyOut(
            group=group,
            at=when,
            working_time=working,
            recipients=[RecipientOut.model_validate(r) for r in rows],
        )

    @delete("/{shift_id:int}", guards=[requires(*WRITERS)], summary="Remove a shift")
    async def remove(
        self, rt: NamedDependency[Runtime], shift_id: FromPath[RowId], request: Request
    ) -> None:
        async with rt.sessions.begin() as session:
            await rota.remove_shift(session, shift_id, request.user, utcnow())
