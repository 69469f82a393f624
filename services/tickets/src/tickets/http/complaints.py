"""Complaints over HTTP (投诉处理): the list with filters, one complaint with its clocks, proposals
and history, and one POST per step: acknowledge → limit → findings → resolution → the customer's
answer as staff record it; the level and the owner (supervisors)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.events import ComplaintLevel
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset
from aftersales_shared.service import Runtime

from ..domain import ComplaintStage
from ..models import ComplaintRow
from ..schemas import (
    AuditEntryOut,
    ComplaintAnswerIn,
    ComplaintClockOut,
    ComplaintFindingsIn,
    ComplaintLevelIn,
    ComplaintLimitIn,
    ComplaintNoteIn,
    ComplaintOut,
    ComplaintOwnerIn,
    ComplaintPage,
    ComplaintProposalOut,
    ComplaintResolutionIn,
)
from ..settings import TicketsSettings
from ..usecases import complaints
from .roles import COMPLAINT_DESK, COMPLAINT_LEADS, READERS


def complaint_out(row: ComplaintRow) -> ComplaintOut:
    data = {k: getattr(row, k) for k in ComplaintOut.model_fields if hasattr(row, k)}
    data["ticket_status"] = row.ticket.status
    data["customer_name"] = row.ticket.customer_name
    data["dealer_id"] = row.ticket.dealer_id
    data["calendar_id"] = row.ticket.calendar_id
    data["assignee_id"] = row.ticket.assignee_id
    data["overdue"] = complaints.overdue_stages(row)
    data["clocks"] = [ComplaintClockOut.model_validate(c) for c in row.clocks]
    data["proposals"] = [ComplaintProposalOut.model_validate(p) for p in row.proposals]
    data["history"] = None
    return ComplaintOut.model_validate(data)


async def with_history(session: AsyncSession, row: ComplaintRow) -> ComplaintOut:
    entries = await complaints.history(session, row)
    return complaint_out(row).model_copy(
        update={"history": [AuditEntryOut.model_validate(e) for e in entries]}
    )


class ComplaintController(Controller):
    path = "/complaints"
    tags = ["complaints"]

    @get(
        "/",
        guards=[requires(*READERS)],
        summary="Complaints with filters (dealers: their own; engineers: about their work, on "
        "tickets assigned to them now or before)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        level: FromQuery[ComplaintLevel | None] = None,
        stage: FromQuery[ComplaintStage | None] = None,
        owner_id: Annotated[str | None, QueryParameter(max_length=100)] = None,
        overdue: FromQuery[bool | None] = None,
        open_only: FromQuery[bool] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ComplaintPage:
        filters = complaints.ComplaintFilters(
            level=level.value if level else None,
            stage=stage.value if stage else None,
            owner_id=owner_id,
            overdue=overdue,
            open_only=open_only,
        )
        async with rt.sessions() as session:
            rows, total = await complaints.list_complaints(
                session, request.user, filters, limit, offset
            )
            return ComplaintPage(
                items=[complaint_out(r) for r in rows], total=total, limit=limit, offset=offset
            )

    @get(
        "/{ticket_no:str}",
        guards=[requires(*READERS)],
        summary="One complaint: its clocks, proposals (投诉处理确认书) and history",
    )
    async def get_one(
        self, rt: NamedDependency[Runtime], ticket_no: FromPath[str], request: Request
    ) -> ComplaintOut:
        async with rt.sessions() as session:
            row = await complaints.get_complaint(session, ticket_no, request.user)
            return await with_history(session, row)

    @post(
        "/{ticket_no:str}/acknowledge",
        guards=[requires(*COMPLAINT_DESK)],
        status_code=200,
        summary="Acknowledged (受理确认); the time limit is to be told next",
    )
    async def acknowledge(
        self,
        rt: NamedDependency[Runtime],
        ticket_no: FromPath[str],
        data: JSONBody[ComplaintNoteIn],
        request: Request,
    ) -> ComplaintOut:
        async with rt.sessions.begin() as session:
            row = await complaints.acknowledge(
                session, ticket_no, data.note, request.user, utcnow()
            )
            return await with_history(session, row)

    @post(
        "/{ticket_no:str}/limit",
        guards=[requires(*COMPLAINT_DESK)],
        status_code=200,
        summary="The time limit told to the customer (告知处理时限) → ComplaintLimitTold",
    )
    async def limit(
        self,
        rt: NamedDependency[Runtime],
        ticket_no: FromPath[str],
        data: JSONBody[ComplaintLimitIn],
        request: Request,
    ) -> ComplaintOut:
        command = complaints.LimitTold(**data.model_dump())
        async with rt.sessions.begin() as session:
            row = await complaints.tell_limit(session, ticket_no, command, request.user, utcnow())
            return await with_history(session, row)

    @post(
        "/{ticket_no:str}/findings",
        guards=[requires(*COMPLAINT_DESK, Role.TECHNICAL)],
        status_code=200,
        summary="The investigation's findings (问题分析)",
    )
    async def findings(
        self,
        rt: NamedDependency[Runtime],
        ticket_no: FromPath[str],
        data: JSONBody[ComplaintFindingsIn],
        request: Request,
    ) -> ComplaintOut:
        async with rt.sessions.begin() as session:
            row = await complaints.record_findings(
                session, ticket_no, data.findings, request.user, utcnow(), data.complaint_type
            )
            return await with_history(session, row)

    @post(
        "/{ticket_no:str}/resolution",
        guards=[requires(*COMPLAINT_DESK)],
        status_code=200,
        summary="Propose a resolution: the customer gets a single-use link to accept or reject it",
    )
    async def resolution(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        ticket_no: FromPath[str],
        data: JSONBody[ComplaintResolutionIn],
        request: Request,
    ) -> ComplaintOut:
        async with rt.sessions.begin() as session:
            row, _ = await complaints.propose(
                session, ticket_no, data.resolution, request.user, utcnow(), settings
            )
            return await with_history(session, row)

    @post(
        "/{ticket_no:str}/answer",
        guards=[requires(*COMPLAINT_DESK)],
        status_code=200,
        summary="Record the customer's acceptance or rejection (who, when, how); a rejection "
        "escalates",
    )
    async def answer(
        self,
        rt: NamedDependency[Runtime],
        ticket_no: FromPath[str],
        data: JSONBody[ComplaintAnswerIn],
        request: Request,
    ) -> ComplaintOut:
        command = complaints.CustomerAnswer(**data.model_dump())
        async with rt.sessions.begin() as session:
            row = await complaints.record_answer(
                session, ticket_no, command, request.user, utcnow()
            )
            return await with_history(session, row)

    @post(
        "/{ticket_no:str}/level",
        guards=[requires(*COMPLAINT_LEADS)],
        status_code=200,
        summary="Change the level with a reason (supervisors); open steps follow its clocks",
    )
    async def change_level(
        self,
        rt: NamedDependency[Runtime],
        ticket_no: FromPath[str],
        data: JSONBody[ComplaintLevelIn],
        request: Request,
    ) -> ComplaintOut:
        async with rt.sessions.begin() as session:
            row = await complaints.change_level(
                session, ticket_no, data.level, data.reason, request.user, utcnow()
            )
            return await with_history(session, row)

    @post(
        "/{ticket_no:str}/owner",
        guards=[requires(*COMPLAINT_LEADS)],
        status_code=200,
        summary="Give the complaint to another supervisor (never to nobody)",
    )
    async def reassign(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        ticket_no: FromPath[str],
        data: JSONBody[ComplaintOwnerIn],
        request: Request,
    ) -> ComplaintOut:
        async with rt.sessions.begin() as session:
            row = await complaints.reassign(
                session, ticket_no, data.owner_id, data.reason, request.user, utcnow(), settings
            )
            return await with_history(session, row)
