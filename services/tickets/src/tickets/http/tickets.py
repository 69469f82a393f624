"""HTTP API of the tickets service: decode, call one use case, return."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post, put
from litestar.params import QueryParameter

from aftersales_shared import correlation
from aftersales_shared.auth import Role, customer_scope, dealer_scope, requires
from aftersales_shared.db import utcnow
from aftersales_shared.errors import Forbidden, NotFound
from aftersales_shared.events import Contact
from aftersales_shared.exports import content_disposition
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, Since, Until, Year
from aftersales_shared.service import Runtime

from . import calendar_admin, services, workflow
from . import calendars as cal
from .batching import IntakeBatcher
from .intake import Intake, OpenedTicket, TicketRequest
from .models import CalendarRow, EntitlementRow, TicketRow
from .schemas import (
    AssignIn,
    CalendarIn,
    CalendarOut,
    CompleteIn,
    EntitlementOut,
    EntitlementPage,
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
    YearImportOut,
)
from .settings import TicketsSettings

READERS = (
    Role.SERVICE_AGENT,
    Role.SERVICE_SUPERVISOR,
    Role.ENGINEER,
    Role.DEALER,
    Role.MANAGER,
    Role.TECHNICAL,
)
INTAKE = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.DEALER, Role.PARTNER)
HANDLERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.ENGINEER, Role.DEALER)
DESK = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR)


def to_out(row: EntitlementRow) -> EntitlementOut:
    return EntitlementOut.model_validate(row, from_attributes=True)


def ticket_data(t: TicketRow | OpenedTicket) -> dict[str, Any]:
    """A ticket as the plain data of TicketOut (field order included)."""
    data = {k: getattr(t, k) for k in TICKET_FIELDS}
    data["deadlines_provisional"] = any(c.provisional for c in t.clocks if c.state == "running")
    data["clocks"] = [
        {
            "kind": c.kind,
            "state": c.state,
            "target_minutes": c.target_seconds / 60,
            "deadline": c.deadline,
            "provisional": c.provisional,
            "met_at": c.met_at,
            "warned_at": c.warned_at,
            "breached_at": c.breached_at,
            "escalation_level": c.escalation_level,
        }
        for c in t.clocks
    ]
    return data


TICKET_FIELDS = [k for k in TicketOut.model_fields if k not in ("clocks", "deadlines_provisional")]


def ticket_out(t: TicketRow | OpenedTicket) -> TicketOut:
    return TicketOut.model_validate(ticket_data(t))


def created_ticket(t: OpenedTicket) -> Response[TicketOut]:
    """201 with TicketOut's JSON, encoded straight from the values intake wrote (no second validation pass)."""
    return Response(msgspec.json.encode(ticket_data(t)), status_code=201, media_type=MediaType.JSON)


def intake_request(
    data: TicketIn, dealer_id: str | None, scope_dealer_id: str | None = None
) -> TicketRequest:
    """TicketIn → TicketRequest; the contact passed ContactIn, which is stricter than the event's Contact."""
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
        dealer_id=dealer_id,
        use_default_policy=data.use_default_policy,
        scope_dealer_id=scope_dealer_id,
    )


def entitlements_controller(rt: Runtime) -> type[Controller]:
    class EntitlementController(Controller):
        path = "/entitlements"
        tags = ["entitlements"]
        guards = [requires(*READERS)]

        @get("/", summary="Service entitlements learnt from signed contracts")
        async def list_(
            self,
            request: Request,
            customer_id: FromQuery[str | None] = None,
            serial_no: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> EntitlementPage:
            async with rt.sessions() as session:
                rows, total = await services.list_entitlements(
                    session,
                    customer_id=customer_id,
                    serial_no=serial_no,
                    dealer_id=dealer_scope(request.user),
                    limit=limit,
                    offset=offset,
                )
                return EntitlementPage(
                    items=[to_out(r) for r in rows], total=total, limit=limit, offset=offset
                )

        @get("/{contract_no:str}", summary="Entitlement of one contract")
        async def get_one(self, contract_no: FromPath[str], request: Request) -> EntitlementOut:
            async with rt.sessions() as session:
                row = await services.get_entitlement(session, contract_no)
                scope = dealer_scope(request.user)
                if scope is not None and row.dealer_id != scope:
                    raise NotFound(
                        f"合同{contract_no}没有服务权益记录 (no entitlement for this contract)"
                    )
                return to_out(row)

    return EntitlementController


def ticket_controllers(rt: Runtime) -> list[type[Controller]]:
    settings: TicketsSettings = rt.settings  # type: ignore[assignment]
    intake = IntakeBatcher(rt.sessions, settings)

    async def act(no: str, request: Request, fn: Any, *args: Any) -> TicketOut:
        async with rt.sessions.begin() as session:
            ticket = await workflow.load(session, no, request.user, lock=True)
            await fn(session, ticket, *args, request.user, utcnow(), settings)
            await session.flush()
            return ticket_out(ticket)

    class TicketController(Controller):
        path = "/tickets"
        tags = ["tickets"]

        @post("/", guards=[requires(*INTAKE)], summary="Register a service request (售后服务工单)")
        async def open_(self, data: JSONBody[TicketIn], request: Request) -> Response[TicketOut]:
            user = request.user
            dealer_id, scope = data.dealer_id, dealer_scope(user)
            if scope is not None:
                if dealer_id and dealer_id != scope:
                    raise Forbidden(
                        "经销商只能为本经销商登记工单 (a dealer registers tickets for itself only)"
                    )
                dealer_id = scope
            req = intake_request(data, dealer_id, scope)
            ticket = await intake.open(Intake(req, user.subject, utcnow(), correlation.current()))
            return created_ticket(ticket)

        @get(
            "/",
            guards=[requires(*READERS, Role.PARTNER, Role.CUSTOMER)],
            summary="Tickets with filters (engineers: own; dealers: own dealer; partners: their channel; "
            "customers: their own)",
        )
        async def list_(
            self,
            request: Request,
            status: Annotated[str | None, QueryParameter(pattern="^[a-z_]+$")] = None,
            urgency: Annotated[
                str | None, QueryParameter(pattern="^(normal|urgent|critical)$")
            ] = None,
            sla_state: Annotated[
                str | None, QueryParameter(pattern="^(ok|warning|breached)$")
            ] = None,
            assignee_id: FromQuery[str | None] = None,
            customer_id: FromQuery[str | None] = None,
            product_model: FromQuery[str | None] = None,
            serial_no: FromQuery[str | None] = None,
            dealer_id: FromQuery[str | None] = None,
            channel: FromQuery[str | None] = None,
            external_ref: Annotated[str | None, QueryParameter(max_length=100)] = None,
            open_only: FromQuery[bool] = False,
            opened_from: Since = None,
            opened_to: Until = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> TicketPage:
            filters = dict(
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
                open_only=open_only,
                opened_from=opened_from,
                opened_to=opened_to,
            )
            async with rt.sessions() as session:
                rows, total = await workflow.list_tickets(
                    session, request.user, filters, limit, offset
                )
                return TicketPage(
                    items=[ticket_out(t) for t in rows], total=total, limit=limit, offset=offset
                )

        @get(
            "/{no:str}",
            guards=[requires(*READERS, Role.CUSTOMER)],
            summary="One ticket with its SLA clocks",
        )
        async def get_one(self, no: FromPath[str], request: Request) -> TicketOut:
            async with rt.sessions() as session:
                return ticket_out(await workflow.load(session, no, request.user))

        @post(
            "/{no:str}/acknowledge",
            guards=[requires(*DESK)],
            status_code=200,
            summary="Acknowledge (受理)",
        )
        async def acknowledge(self, no: FromPath[str], request: Request) -> TicketOut:
            return await act(no, request, workflow.acknowledge)

        @post(
            "/{no:str}/assign",
            guards=[requires(Role.SERVICE_SUPERVISOR)],
            status_code=200,
            summary="Dispatch or reassign (派单)",
        )
        async def assign(
            self, no: FromPath[str], data: JSONBody[AssignIn], request: Request
        ) -> TicketOut:
            return await act(no, request, workflow.assign, data.model_dump())

        @post(
            "/{no:str}/respond",
            guards=[requires(*HANDLERS)],
            status_code=200,
            summary="First response to the customer",
        )
        async def respond(
            self, no: FromPath[str], data: JSONBody[NoteIn], request: Request
        ) -> TicketOut:
            return await act(
                no, request, workflow.respond, data.note or "已联系客户 (customer contacted)"
            )

        @post(
            "/{no:str}/onsite",
            guards=[requires(*HANDLERS)],
            status_code=200,
            summary="Engineer arrived on site",
        )
        async def onsite(
            self, no: FromPath[str], data: JSONBody[NoteIn], request: Request
        ) -> TicketOut:
            return await act(no, request, workflow.onsite, data.note)

        @post(
            "/{no:str}/pause",
            guards=[requires(*HANDLERS)],
            status_code=200,
            summary="Wait for the customer or parts (clocks pause)",
        )
        async def pause(
            self, no: FromPath[str], data: JSONBody[PauseIn], request: Request
        ) -> TicketOut:
            return await act(no, request, workflow.pause, data.reason, data.note)

        @post(
            "/{no:str}/resume",
            guards=[requires(*HANDLERS)],
            status_code=200,
            summary="Resume (clocks run on)",
        )
        async def resume(
            self, no: FromPath[str], data: JSONBody[NoteIn], request: Request
        ) -> TicketOut:
            return await act(no, request, workflow.resume, data.note)

        @post(
            "/{no:str}/urgency",
            guards=[requires(*DESK)],
            status_code=200,
            summary="Change urgency (deadlines recomputed)",
        )
        async def urgency(
            self, no: FromPath[str], data: JSONBody[UrgencyIn], request: Request
        ) -> TicketOut:
            return await act(no, request, workflow.change_urgency, data.urgency, data.reason)

        @post(
            "/{no:str}/resolve",
            guards=[requires(*HANDLERS)],
            status_code=200,
            summary="Repaired / answered",
        )
        async def resolve(
            self, no: FromPath[str], data: JSONBody[NoteIn], request: Request
        ) -> TicketOut:
            return await act(no, request, workflow.resolve, data.note)

        @post(
            "/{no:str}/complete",
            guards=[requires(*HANDLERS)],
            status_code=200,
            summary="Customer confirmation → ServiceCompleted",
        )
        async def complete(
            self, no: FromPath[str], data: JSONBody[CompleteIn], request: Request
        ) -> TicketOut:
            return await act(no, request, workflow.complete, data.model_dump())

        @post(
            "/{no:str}/reopen",
            guards=[requires(*DESK)],
            status_code=200,
            summary="Reopen within the window",
        )
        async def reopen(
            self, no: FromPath[str], data: JSONBody[ReasonIn], request: Request
        ) -> TicketOut:
            return await act(no, request, workflow.reopen, data.reason)

        @post(
            "/{no:str}/progress", guards=[requires(*HANDLERS)], summary="Append to the progress log"
        )
        async def add_progress(
            self, no: FromPath[str], data: JSONBody[ProgressIn], request: Request
        ) -> ProgressOut:
            async with rt.sessions.begin() as session:
                ticket = await workflow.load(session, no, request.user, lock=True)
                row = await workflow.add_progress(
                    session, ticket, data.model_dump(mode="python"), request.user, utcnow()
                )
                return ProgressOut.model_validate(row, from_attributes=True)

        @get(
            "/{no:str}/progress",
            guards=[requires(*READERS, Role.CUSTOMER)],
            summary="Progress log (append-only; a customer sees only what is meant for customers)",
        )
        async def progress(
            self, no: FromPath[str], request: Request, customer_view: FromQuery[bool] = False
        ) -> list[ProgressOut]:
            async with rt.sessions() as session:
                ticket = await workflow.load(session, no, request.user)
                customer_view = customer_view or customer_scope(request.user) is not None
                rows = await workflow.progress_of(session, ticket, customer_view)
                return [ProgressOut.model_validate(r, from_attributes=True) for r in rows]

        @post(
            "/{no:str}/loaner",
            guards=[requires(*HANDLERS)],
            summary="Record a loaner unit (备用机)",
        )
        async def loaner(
            self, no: FromPath[str], data: JSONBody[LoanerIn], request: Request
        ) -> LoanerOut:
            async with rt.sessions.begin() as session:
                ticket = await workflow.load(session, no, request.user, lock=True)
                row = await workflow.provide_loaner(
                    session, ticket, data.model_dump(), request.user, utcnow()
                )
                return LoanerOut.model_validate(row, from_attributes=True)

    class QueueController(Controller):
        path = "/queue"
        tags = ["tickets"]

        @get(
            "/",
            guards=[requires(Role.SERVICE_SUPERVISOR, Role.MANAGER)],
            summary="Supervisor queue: unassigned and at-risk",
        )
        async def queue(self, limit: Limit = 50, offset: Offset = 0) -> TicketPage:
            async with rt.sessions() as session:
                rows, total = await workflow.supervisor_queue(session, limit, offset)
                return TicketPage(
                    items=[ticket_out(t) for t in rows], total=total, limit=limit, offset=offset
                )

    return [TicketController, QueueController]


def calendars_controller(rt: Runtime) -> type[Controller]:
    settings: TicketsSettings = rt.settings  # type: ignore[assignment]

    class CalendarController(Controller):
        path = "/calendars"
        tags = ["calendars"]

        @get("/", guards=[requires(*READERS)], summary="Working-time calendars")
        async def list_(self) -> list[CalendarOut]:
            async with rt.sessions() as session:
                out = []
                for cid in await cal.calendar_ids(session):
                    row = await session.get(CalendarRow, cid)
                    out.append(
                        CalendarOut(
                            id=cid,
                            name=row.name if row else cid,
                            timezone=row.timezone if row else "Asia/Shanghai",
                            always_open=row.always_open if row else cid == "24x7",
                            hours=row.hours
                            if row
                            else ([] if cid == "24x7" else cal.DEFAULT_HOURS),
                            workday_hours=row.workday_hours if row else [],
                        )
                    )
                return out

        @put(
            "/{calendar_id:str}",
            guards=[requires(Role.ADMIN)],
            summary="Create or change a calendar's hours",
        )
        async def upsert(
            self, calendar_id: FromPath[str], data: JSONBody[CalendarIn], request: Request
        ) -> CalendarOut:
            async with rt.sessions.begin() as session:
                row = await calendar_admin.update_hours(
                    session,
                    calendar_id,
                    data.model_dump(mode="json"),
                    request.user.subject,
                    utcnow(),
                    settings,
                )
                return CalendarOut.model_validate(row, from_attributes=True)

        @put(
            "/{calendar_scope:str}/years/{year:int}",
            guards=[requires(Role.ADMIN)],
            summary="Import a year's table (CSV or YAML)",
        )
        async def import_year(
            self,
            calendar_scope: FromPath[str],
            year: Year,
            request: Request,
            format: Annotated[str | None, QueryParameter(pattern="^(csv|yaml)$")] = None,
        ) -> YearImportOut:
            fmt = format or ("yaml" if "yaml" in request.headers.get("content-type", "") else "csv")
            table = cal.parse_table(await request.body(), fmt, year)
            async with rt.sessions.begin() as session:
                entries, count, changed = await calendar_admin.apply_year(
                    session, calendar_scope, year, table, request.user.subject, utcnow(), settings
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
        async def audit(self, limit: Limit = 50, offset: Offset = 0) -> list[dict[str, Any]]:
            async with rt.sessions() as session:
                rows = await calendar_admin.audit(session, limit, offset)
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
            calendar_scope: FromPath[str],
            year: Year,
            format: Annotated[str, QueryParameter(pattern="^(csv|yaml)$")] = "csv",
        ) -> Response[str]:
            async with rt.sessions() as session:
                entries, source = await cal.effective_year(session, calendar_scope, year)
            media = "text/csv" if format == "csv" else "application/yaml"
            return Response(
                cal.export_table(entries, format),
                media_type=media,
                headers={
                    "X-Calendar-Source": source,
                    "Content-Disposition": content_disposition(f"{calendar_scope}-{year}.{format}"),
                },
            )

    return CalendarController
