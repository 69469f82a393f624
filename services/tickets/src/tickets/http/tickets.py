"""Tickets over HTTP: intake, the steps of a ticket's life, its progress log."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from aftersales_shared import correlation
from aftersales_shared.auth import Role, dealer_scope, requires
from aftersales_shared.db import utcnow
from aftersales_shared.events import Contact
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, Since, Until
from aftersales_shared.service import Runtime

from ..domain import FaultReport
from ..schemas import (
    AssignIn,
    AttachmentOut,
    CompleteIn,
    FaultAnalysisIn,
    FaultOut,
    LoanerIn,
    LoanerOut,
    NoteIn,
    PauseIn,
    ProgressIn,
    ProgressOut,
    ReasonIn,
    TicketIn,
    TicketOut,
    TicketPage,
    UrgencyIn,
)
from ..settings import TicketsSettings
from ..usecases import complaints, completion, dispatch, faults, handling, progress, search
from ..usecases.intake import Intake, IntakeBatcher, TicketRequest
from .encoding import created_ticket, ticket_out, ticket_page
from .faults import fault_out
from .roles import DESK, HANDLERS, INTAKE, QUALITY_EDITORS, READERS


def intake_request(
    data: TicketIn, scope_dealer_id: str | None = None, complaint_owner: str | None = None
) -> TicketRequest:
    """TicketIn → TicketRequest; the contact passed ContactIn, which is stricter than the event's
    Contact."""
    c = data.contact
    return TicketRequest(
        channel=data.channel,
        request_type=data.request_type,
        urgency=data.urgency,
        description=data.description,
        customer_name=data.customer_name,
        contact=Contact.model_construct(name=c.name, phone=c.phone, email=c.email),
        customer_id=data.customer_id,
        contract_no=data.contract_no,
        product_model=data.product_model,
        serial_no=data.serial_no,
        batch_no=data.batch_no,
        dealer_id=data.dealer_id,
        use_default_policy=data.use_default_policy,
        scope_dealer_id=scope_dealer_id,
        complaint_level=data.complaint_level,
        complaint_type=data.complaint_type,
        complaint_owner=complaint_owner,
    )


class TicketController(Controller):
    path = "/tickets"
    tags = ["tickets"]

    @post("/", guards=[requires(*INTAKE)], summary="Register a service request (售后服务工单)")
    async def open_(
        self,
        intake: NamedDependency[IntakeBatcher],
        settings: NamedDependency[TicketsSettings],
        data: JSONBody[TicketIn],
        request: Request,
    ) -> Response[TicketOut]:
        user = request.user
        owner = complaints.intake_owner(
            data.request_type,
            data.complaint_level,
            data.complaint_owner_id,
            user,
            settings,
            data.complaint_type,
        )
        req = intake_request(data, dealer_scope(user), owner)
        ticket = await intake.open(Intake(req, user.subject, utcnow(), correlation.current()))
        return created_ticket(ticket)

    @get(
        "/",
        guards=[requires(*READERS, Role.PARTNER, Role.CUSTOMER)],
        summary=(
            "Tickets with filters (engineers: own; dealers: own dealer; "
            "partners: their channel; customers: their own)"
        ),
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        status: Annotated[str | None, QueryParameter(pattern="^[a-z_]+$")] = None,
        urgency: Annotated[str | None, QueryParameter(pattern="^(normal|urgent|critical)$")] = None,
        sla_state: Annotated[str | None, QueryParameter(pattern="^(ok|warning|breached)$")] = None,
        assignee_id: FromQuery[str | None] = None,
        customer_id: FromQuery[str | None] = None,
        product_model: FromQuery[str | None] = None,
        serial_no: FromQuery[str | None] = None,
        dealer_id: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        external_ref: Annotated[str | None, QueryParameter(max_length=100)] = None,
        request_type: Annotated[str | None, QueryParameter(pattern="^[a-z_]{1,30}$")] = None,
        open_only: FromQuery[bool] = False,
        unassigned: Annotated[
            bool, QueryParameter(description="only tickets nobody is assigned to")
        ] = False,
        order: Annotated[
            str,
            QueryParameter(
                pattern="^(opened|deadline)$",
                description="opened: newest first; deadline: next running SLA deadline first",
            ),
        ] = "opened",
        opened_from: Since = None,
        opened_to: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TicketPage:
        filters = search.TicketFilters(
            status=status,
            urgency=urgency,
            sla_state=sla_state,
            assignee_id=assignee_id,
            customer_id=customer_id,
            product_model=product_model,
            serial_no=serial_no,
            dealer_id=dealer_id,
            channel=channel,
            external_ref=external_ref,
            request_type=request_type,
            open_only=open_only,
            unassigned=unassigned,
            by_deadline=order == "deadline",
            opened_from=opened_from,
            opened_to=opened_to,
        )
        async with rt.sessions() as session:
            rows, total = await search.list_tickets(session, request.user, filters, limit, offset)
            return ticket_page(rows, total, limit, offset)

    @get(
        "/{no:str}",
        guards=[requires(*READERS, Role.CUSTOMER, Role.FINANCE)],
        summary="One ticket with its SLA clocks",
    )
    async def get_one(
        self, rt: NamedDependency[Runtime], no: FromPath[str], request: Request
    ) -> TicketOut:
        async with rt.sessions() as session:
            return ticket_out(await search.get_ticket(session, no, request.user))

    @post(
        "/{no:str}/acknowledge",
        guards=[requires(*DESK)],
        status_code=200,
        summary="Acknowledge (受理)",
    )
    async def acknowledge(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        request: Request,
    ) -> TicketOut:
        async with rt.sessions.begin() as session:
            ticket = await dispatch.acknowledge(session, no, request.user, utcnow(), settings)
            return ticket_out(ticket)

    @post(
        "/{no:str}/assign",
        guards=[requires(Role.SERVICE_SUPERVISOR)],
        status_code=200,
        summary="Dispatch or reassign (派单)",
    )
    async def assign(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        data: JSONBody[AssignIn],
        request: Request,
    ) -> TicketOut:
        command = dispatch.Assignment(**data.model_dump())
        async with rt.sessions.begin() as session:
            ticket = await dispatch.assign(session, no, command, request.user, utcnow(), settings)
            return ticket_out(ticket)

    @post(
        "/{no:str}/respond",
        guards=[requires(*HANDLERS)],
        status_code=200,
        summary="First response to the customer",
    )
    async def respond(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        data: JSONBody[NoteIn],
        request: Request,
    ) -> TicketOut:
        async with rt.sessions.begin() as session:
            ticket = await handling.respond(
                session, no, data.note, request.user, utcnow(), settings
            )
            return ticket_out(ticket)

    @post(
        "/{no:str}/onsite",
        guards=[requires(*HANDLERS)],
        status_code=200,
        summary="Engineer arrived on site",
    )
    async def onsite(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        data: JSONBody[NoteIn],
        request: Request,
    ) -> TicketOut:
        async with rt.sessions.begin() as session:
            ticket = await handling.onsite(session, no, data.note, request.user, utcnow(), settings)
            return ticket_out(ticket)

    @post(
        "/{no:str}/pause",
        guards=[requires(*HANDLERS)],
        status_code=200,
        summary="Wait for the customer or parts (clocks pause)",
    )
    async def pause(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        data: JSONBody[PauseIn],
        request: Request,
    ) -> TicketOut:
        async with rt.sessions.begin() as session:
            ticket = await handling.pause(
                session, no, data.reason, data.note, request.user, utcnow(), settings
            )
            return ticket_out(ticket)

    @post(
        "/{no:str}/resume",
        guards=[requires(*HANDLERS)],
        status_code=200,
        summary="Resume (clocks run on)",
    )
    async def resume(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        data: JSONBody[NoteIn],
        request: Request,
    ) -> TicketOut:
        async with rt.sessions.begin() as session:
            ticket = await handling.resume(session, no, data.note, request.user, utcnow(), settings)
            return ticket_out(ticket)

    @post(
        "/{no:str}/urgency",
        guards=[requires(*DESK)],
        status_code=200,
        summary="Change urgency (deadlines recomputed)",
    )
    async def urgency(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        data: JSONBody[UrgencyIn],
        request: Request,
    ) -> TicketOut:
        async with rt.sessions.begin() as session:
            ticket = await handling.change_urgency(
                session, no, data.urgency, data.reason, request.user, utcnow(), settings
            )
            return ticket_out(ticket)

    @post(
        "/{no:str}/resolve",
        guards=[requires(*HANDLERS)],
        status_code=200,
        summary="Repaired / answered",
    )
    async def resolve(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        data: JSONBody[NoteIn],
        request: Request,
    ) -> TicketOut:
        async with rt.sessions.begin() as session:
            ticket = await handling.resolve(
                session, no, data.note, request.user, utcnow(), settings
            )
            return ticket_out(ticket)

    @post(
        "/{no:str}/complete",
        guards=[requires(*HANDLERS)],
        status_code=200,
        summary="Customer confirmation → ServiceCompleted",
    )
    async def complete(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        data: JSONBody[CompleteIn],
        request: Request,
    ) -> TicketOut:
        values = data.model_dump()
        fault = values.pop("fault")
        command = completion.Confirmation(
            **values, fault=FaultReport(**fault) if fault is not None else None
        )
        async with rt.sessions.begin() as session:
            ticket = await completion.complete(
                session, no, command, request.user, utcnow(), settings
            )
            return ticket_out(ticket)

    @get(
        "/{no:str}/fault",
        guards=[requires(*READERS)],
        summary="The ticket's fault classification (symptom, cause category, failed part)",
    )
    async def fault(
        self, rt: NamedDependency[Runtime], no: FromPath[str], request: Request
    ) -> FaultOut:
        async with rt.sessions() as session:
            return fault_out(await faults.get_fault(session, no, request.user))

    @post(
        "/{no:str}/fault-analysis",
        guards=[requires(*QUALITY_EDITORS)],
        status_code=200,
        summary="Fill in a cause left to analysis (待分析), or correct one → FaultClassified",
    )
    async def analyse(
        self,
        rt: NamedDependency[Runtime],
        no: FromPath[str],
        data: JSONBody[FaultAnalysisIn],
        request: Request,
    ) -> FaultOut:
        finding = faults.FaultAnalysis(**data.model_dump())
        async with rt.sessions.begin() as session:
            return fault_out(await faults.analyse(session, no, finding, request.user, utcnow()))

    @post(
        "/{no:str}/reopen",
        guards=[requires(*DESK)],
        status_code=200,
        summary="Reopen within the window",
    )
    async def reopen(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        data: JSONBody[ReasonIn],
        request: Request,
    ) -> TicketOut:
        async with rt.sessions.begin() as session:
            ticket = await completion.reopen(
                session, no, data.reason, request.user, utcnow(), settings
            )
            return ticket_out(ticket)

    @post("/{no:str}/progress", guards=[requires(*HANDLERS)], summary="Append to the progress log")
    async def add_progress(
        self,
        rt: NamedDependency[Runtime],
        no: FromPath[str],
        data: JSONBody[ProgressIn],
        request: Request,
    ) -> ProgressOut:
        entry = progress.ProgressEntry(
            kind=data.kind,
            text=data.text,
            visibility=data.visibility,
            parts=[progress.Part(p.name, p.quantity) for p in data.parts],
            fee=progress.Fee(data.fee.kind, data.fee.amount) if data.fee else None,
        )
        async with rt.sessions.begin() as session:
            row = await progress.add_progress(session, no, entry, request.user, utcnow())
            return ProgressOut.model_validate(row, from_attributes=True)

    @get(
        "/{no:str}/progress",
        guards=[requires(*READERS, Role.CUSTOMER, Role.FINANCE)],
        summary="Progress log (append-only; a customer sees only what is meant for customers)",
    )
    async def progress(
        self,
        rt: NamedDependency[Runtime],
        no: FromPath[str],
        request: Request,
        customer_view: FromQuery[bool] = False,
    ) -> list[ProgressOut]:
        async with rt.sessions() as session:
            rows = await progress.progress_log(session, no, request.user, customer_view)
            files: dict[int | None, list[AttachmentOut]] = {}
            for a in await progress.attachments(session, no, request.user):
                files.setdefault(a.progress_id, []).append(
                    AttachmentOut.model_validate(a, from_attributes=True)
                )
            return [
                ProgressOut.model_validate(r, from_attributes=True).model_copy(
                    update={"attachments": files.get(r.id, [])}
                )
                for r in rows
            ]

    @post(
        "/{no:str}/loaner",
        guards=[requires(*HANDLERS)],
        summary="Record a loaner unit (备用机)",
    )
    async def loaner(
        self,
        rt: NamedDependency[Runtime],
        no: FromPath[str],
        data: JSONBody[LoanerIn],
        request: Request,
    ) -> LoanerOut:
        command = progress.Loaner(**data.model_dump())
        async with rt.sessions.begin() as session:
            row = await progress.provide_loaner(session, no, command, request.user, utcnow())
            return LoanerOut.model_validate(row, from_attributes=True)
