"""Staff API of return visits (回访): the work list with filters, one visit, a call recorded. A
dealer reads its own tickets' visits (the list confined to its dealer, another's visit a 404) and
records none."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, dealer_scope, requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
    Until,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..domain import Policy, VisitOutcome
from ..schemas import ReturnVisitOut, VisitCallIn
from ..usecases import return_visits
from .surveys import PHONE_RECORDERS, READERS

VISIT_READERS = (*READERS, Role.DEALER)


class ReturnVisitsController(Controller):
    path = "/return-visits"
    tags = ["return visits"]

    @get(
        "/",
        guards=[requires(*VISIT_READERS)],
        summary="Return visits (回访), soonest due first (filters, pagination; a dealer: its own)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        status: Annotated[str | None, QueryParameter(pattern="^(open|done|unreachable)$")] = None,
        reason: Annotated[
            str | None, QueryParameter(pattern="^(critical|complaint|sampled)$")
        ] = None,
        ticket_no: FromQuery[str | None] = None,
        customer_id: FromQuery[str | None] = None,
        dealer_id: FromQuery[str | None] = None,
        engineer_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        overdue: FromQuery[bool | None] = None,
        due_before: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ReturnVisitOut]:
        f = return_visits.VisitFilter(
            status=status,
            reason=reason,
            ticket_no=ticket_no,
            customer_id=customer_id,
            dealer_id=dealer_scope(request.user) or dealer_id,
            overdue=overdue,
            due_before=due_before,
            engineer_id=engineer_id,
        )
        async with rt.sessions() as session:
            rows, total = await return_visits.list_visits(session, f, limit, offset)
            return Page[ReturnVisitOut](
                items=[ReturnVisitOut.model_validate(r) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )

    @get(
        "/{visit_id:str}",
        guards=[requires(*VISIT_READERS)],
        summary="One return visit with its calls (a dealer: its own; 404 for another's)",
    )
    async def get_one(
        self, rt: NamedDependency[Runtime], visit_id: FromPath[str], request: Request
    ) -> ReturnVisitOut:
        async with rt.sessions() as session:
            row = await return_visits.get_visit(session, visit_id, dealer_scope(request.user))
            return ReturnVisitOut.model_validate(row)

    @post(
        "/{visit_id:str}/calls",
        guards=[requires(*PHONE_RECORDERS)],
        status_code=200,
        summary=(
            "Record a call: reached (solved), problem_persists (reopens the work in tickets) or "
            "not_reached (call again; given up after the allowed attempts)"
        ),
    )
    async def call(
        self,
        rt: NamedDependency[Runtime],
        policy: NamedDependency[Policy],
        visit_id: FromPath[str],
        data: JSONBody[VisitCallIn],
        request: Request,
    ) -> ReturnVisitOut:
        cmd = return_visits.VisitCall(
            outcome=VisitOutcome(data.outcome), note=data.note, called_at=data.called_at
        )
        async with rt.sessions.begin() as session:
            row = await return_visits.record_call(
                session, visit_id, cmd, request.user, policy, utcnow()
            )
            return ReturnVisitOut.model_validate(row)
