"""Corrective and preventive actions (纠正/预防措施) over HTTP: create, list with filters, the steps
open → in_progress → done → verified (or rejected back to in_progress)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.events import CauseCategory
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, Since, Until
from aftersales_shared.service import Runtime

from ..domain import ActionStatus, Department
from ..models import CorrectiveActionRow
from ..schemas import (
    ActionNoteIn,
    ActionResultIn,
    AuditEntryOut,
    CorrectiveActionIn,
    CorrectiveActionOut,
    CorrectiveActionPage,
    ReasonIn,
)
from ..usecases import corrective
from .roles import ACTION_READERS

# who may move an action along: the use case checks the owner department (or the named owner)
WORKERS = (*ACTION_READERS, Role.ENGINEER)


def action_out(row: CorrectiveActionRow) -> CorrectiveActionOut:
    data = {k: getattr(row, k) for k in CorrectiveActionOut.model_fields if hasattr(row, k)}
    data["ticket_nos"] = [t.ticket_no for t in row.tickets]
    data["history"] = None
    return CorrectiveActionOut.model_validate(data)


async def with_history(session: AsyncSession, row: CorrectiveActionRow) -> CorrectiveActionOut:
    entries = await corrective.history(session, row)
    return action_out(row).model_copy(
        update={"history": [AuditEntryOut.model_validate(e, from_attributes=True) for e in entries]}
    )


class CorrectiveActionController(Controller):
    path = "/corrective-actions"
    tags = ["corrective actions"]

    @post(
        "/",
        guards=[requires(*corrective.QUALITY_LEADS)],
        summary="Open a corrective or preventive action (纠正/预防措施)",
    )
    async def create(
        self, rt: NamedDependency[Runtime], data: JSONBody[CorrectiveActionIn], request: Request
    ) -> CorrectiveActionOut:
        values = data.model_dump()
        values["ticket_nos"] = tuple(values["ticket_nos"])
        command = corrective.NewAction(**values)
        async with rt.sessions.begin() as session:
            row = await corrective.create_action(session, command, request.user, utcnow())
            return await with_history(session, row)

    @get("/", guards=[requires(*ACTION_READERS)], summary="Corrective actions with filters")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        status: FromQuery[ActionStatus | None] = None,
        kind: FromQuery[Literal["corrective", "preventive"] | None] = None,
        owner_department: FromQuery[Department | None] = None,
        owner_id: Annotated[str | None, QueryParameter(max_length=100)] = None,
        cause_category: FromQuery[CauseCategory | None] = None,
        product_line: Annotated[str | None, QueryParameter(max_length=40)] = None,
        ticket_no: Annotated[str | None, QueryParameter(max_length=32)] = None,
        overdue: FromQuery[bool | None] = None,
        due_from: Since = None,
        due_to: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CorrectiveActionPage:
        filters = corrective.ActionFilters(
            status=status.value if status else None,
            kind=kind,
            owner_department=owner_department.value if owner_department else None,
            owner_id=owner_id,
            cause_category=cause_category.value if cause_category else None,
            product_line=product_line,
            ticket_no=ticket_no,
            overdue=overdue,
            due_from=due_from,
            due_to=due_to,
        )
        async with rt.sessions() as session:
            rows, total = await corrective.list_actions(session, filters, limit, offset)
            return CorrectiveActionPage(
                items=[action_out(r) for r in rows], total=total, limit=limit, offset=offset
            )

    @get(
        "/{action_no:str}",
        guards=[requires(*ACTION_READERS)],
        summary="One action with its history",
    )
    async def get_one(
        self, rt: NamedDependency[Runtime], action_no: FromPath[str]
    ) -> CorrectiveActionOut:
        async with rt.sessions() as session:
            return await with_history(session, await corrective.get_action(session, action_no))

    @post(
        "/{action_no:str}/start",
        guards=[requires(*WORKERS)],
        status_code=200,
        summary="Work started (open → in_progress; the owner department or the owner)",
    )
    async def start(
        self,
        rt: NamedDependency[Runtime],
        action_no: FromPath[str],
        data: JSONBody[ActionNoteIn],
        request: Request,
    ) -> CorrectiveActionOut:
        async with rt.sessions.begin() as session:
            row = await corrective.start(session, action_no, data.note, request.user, utcnow())
            return await with_history(session, row)

    @post(
        "/{action_no:str}/done",
        guards=[requires(*WORKERS)],
        status_code=200,
        summary="Done, to be verified (in_progress → done; the owner department or the owner)",
    )
    async def done(
        self,
        rt: NamedDependency[Runtime],
        action_no: FromPath[str],
        data: JSONBody[ActionResultIn],
        request: Request,
    ) -> CorrectiveActionOut:
        async with rt.sessions.begin() as session:
            row = await corrective.finish(session, action_no, data.result, request.user, utcnow())
            return await with_history(session, row)

    @post(
        "/{action_no:str}/verify",
        guards=[requires(*corrective.QUALITY_LEADS)],
        status_code=200,
        summary="Verified effective (done → verified; by someone other than the doer)",
    )
    async def verify(
        self,
        rt: NamedDependency[Runtime],
        action_no: FromPath[str],
        data: JSONBody[ActionNoteIn],
        request: Request,
    ) -> CorrectiveActionOut:
        async with rt.sessions.begin() as session:
            row = await corrective.verify(session, action_no, data.note, request.user, utcnow())
            return await with_history(session, row)

    @post(
        "/{action_no:str}/reject",
        guards=[requires(*corrective.QUALITY_LEADS)],
        status_code=200,
        summary="Not effective (done → in_progress; by someone other than the doer)",
    )
    async def reject(
        self,
        rt: NamedDependency[Runtime],
        action_no: FromPath[str],
        data: JSONBody[ReasonIn],
        request: Request,
    ) -> CorrectiveActionOut:
        async with rt.sessions.begin() as session:
            row = await corrective.reject(session, action_no, data.reason, request.user, utcnow())
            return await with_history(session, row)
