"""Event and deadline handlers of the tickets service: decode (done by the inbox / scheduler), build
the command, call one use case. Each runs in the transaction that marks its message or job done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import (
    ContractSignedV1,
    Envelope,
    PartIssuedV1,
    PartReturnedV1,
    PartsArrivedForTicketV1,
    QuoteAcceptedV1,
    QuoteDeclinedV1,
    QuoteIssuedV1,
    QuoteWithdrawnV1,
    ReturnVisitRecordedV1,
    SurveyAnsweredV1,
    TicketRequestedV1,
)
from aftersales_shared.inbox import Inbox
from aftersales_shared.scheduler import Job, Scheduler

from .settings import TicketsSettings
from .usecases import (
    calendars,
    complaints,
    corrective,
    entitlements,
    faults,
    follow_ups,
    partner_requests,
    parts_arrival,
    parts_used,
    quote_gate,
    sla,
)

Now = Callable[[], datetime]

# the fields of each event these handlers (and the use cases they call) read: checked against the
# producers' committed schemas by tests/events/test_consumer_reads.py
CONTRACT_READS = (
    "contract_no",
    "customer.customer_id",
    "customer.name",
    "customer.contacts",
    "service_levels",
    "calendar",
    "dealer_id",
    "signed_at",
    "products.serial_no",
    "products.model",
    "products.warranty_end",
)
PARTNER_REQUEST_READS = (
    "channel",
    "external_ref",
    "request_type",
    "urgency",
    "description",
    "customer_name",
    "contact",
    "customer_id",
    "contract_no",
    "product_model",
    "serial_no",
    "batch_no",
    "dealer_id",
)
SURVEY_READS = (
    "survey_id",
    "ticket_id",
    "ticket_no",
    "efficiency",
    "attitude",
    "professionalism",
    "comment",
    "low_score",
    "customer_id",
    "product_model",
    "dealer_id",
    "answered_via",
    "recorded_by_agent",
)

RETURN_VISIT_READS = ("visit_id", "ticket_id", "ticket_no", "outcome", "note", "visited_by")
PARTS_ARRIVED_READS = (
    "ticket_no",
    "reservation_id",
    "part_no",
    "part_name",
    "quantity",
    "location_id",
    "still_waiting",
)


def register(inbox: Inbox, settings: TicketsSettings) -> None:
    @inbox.handles(ContractSignedV1, reads=CONTRACT_READS)
    async def on_contract_signed(session: AsyncSession, env: Envelope[ContractSignedV1]) -> None:
        await entitlements.record_entitlement(session, signed_contract(env), utcnow())

    @inbox.handles(TicketRequestedV1, reads=PARTNER_REQUEST_READS)
    async def on_ticket_requested(session: AsyncSession, env: Envelope[TicketRequestedV1]) -> None:
        await partner_requests.open_partner_request(
            session,
            partner_request(env.data),
            f"partner:{env.source}",
            utcnow(),
            settings,
            env.correlation_id,
        )

    @inbox.handles(SurveyAnsweredV1, reads=SURVEY_READS)
    async def on_survey_answered(session: AsyncSession, env: Envelope[SurveyAnsweredV1]) -> None:
        await follow_ups.follow_up(session, survey_answer(env), utcnow(), settings)

    @inbox.handles(ReturnVisitRecordedV1, reads=RETURN_VISIT_READS)
    async def on_return_visit(session: AsyncSession, env: Envelope[ReturnVisitRecordedV1]) -> None:
        if env.data.outcome != "problem_persists":
            return  # reached and solved, or not reached: nothing to reopen
        visit = follow_ups.ReturnVisitProblem(
            visit_id=env.data.visit_id,
            ticket_id=env.data.ticket_id,
            ticket_no=env.data.ticket_no,
            note=env.data.note,
            visited_by=env.data.visited_by,
            correlation_id=env.correlation_id,
        )
        await follow_ups.return_visit_problem(session, visit, utcnow(), settings)

    register_parts_arrival(inbox, settings)
    register_quote_gate(inbox)
    register_parts_used(inbox)


def register_parts_used(inbox: Inbox) -> None:
    """The parts service's ledger on a ticket, with prices: the service sheet lists them."""

    @inbox.handles(
        PartIssuedV1,
        reads=(
            "movement_id",
            "ticket_no",
            "part_no",
            "part_name",
            "quantity",
            "unit_price",
            "issued_at",
        ),
    )
    async def on_part_issued(session: AsyncSession, env: Envelope[PartIssuedV1]) -> None:
        d = env.data
        await parts_used.record(
            session,
            movement_id=d.movement_id,
            ticket_no=d.ticket_no,
            part_no=d.part_no,
            part_name=d.part_name,
            quantity=d.quantity,
            unit_price=d.unit_price,
            at=d.issued_at,
        )

    @inbox.handles(
        PartReturnedV1,
        reads=(
            "movement_id",
            "ticket_no",
            "part_no",
            "part_name",
            "quantity",
            "unit_price",
            "returned_at",
        ),
    )
    async def on_part_returned(session: AsyncSession, env: Envelope[PartReturnedV1]) -> None:
        d = env.data
        await parts_used.record(
            session,
            movement_id=d.movement_id,
            ticket_no=d.ticket_no,
            part_no=d.part_no,
            part_name=d.part_name,
            quantity=-d.quantity,
            unit_price=d.unit_price,
            at=d.returned_at,
        )


def register_quote_gate(inbox: Inbox) -> None:
    """The parts service's quotes: a chargeable ticket goes on site once the customer accepted."""

    @inbox.handles(QuoteIssuedV1, reads=("ticket_no", "quote_no", "issued_at"))
    async def on_quote_issued(session: AsyncSession, env: Envelope[QuoteIssuedV1]) -> None:
        d = env.data
        await quote_gate.quote_changed(
            session, d.ticket_no, d.quote_no, quote_gate.AWAITING, d.issued_at
        )

    @inbox.handles(QuoteAcceptedV1, reads=("ticket_no", "quote_no", "decided_at"))
    async def on_quote_accepted(session: AsyncSession, env: Envelope[QuoteAcceptedV1]) -> None:
        d = env.data
        await quote_gate.quote_changed(
            session, d.ticket_no, d.quote_no, quote_gate.ACCEPTED, d.decided_at
        )

    @inbox.handles(QuoteDeclinedV1, reads=("ticket_no", "quote_no", "decided_at"))
    async def on_quote_declined(session: AsyncSession, env: Envelope[QuoteDeclinedV1]) -> None:
        d = env.data
        await quote_gate.quote_changed(
            session, d.ticket_no, d.quote_no, quote_gate.DECLINED, d.decided_at
        )

    @inbox.handles(QuoteWithdrawnV1, reads=("ticket_no", "quote_no", "withdrawn_at"))
    async def on_quote_withdrawn(session: AsyncSession, env: Envelope[QuoteWithdrawnV1]) -> None:
        d = env.data
        await quote_gate.quote_changed(
            session, d.ticket_no, d.quote_no, quote_gate.WITHDRAWN, d.withdrawn_at
        )


def register_parts_arrival(inbox: Inbox, settings: TicketsSettings) -> None:
    """PartsArrivedForTicket (parts service): a ticket waiting for parts resumes its clocks."""

    @inbox.handles(PartsArrivedForTicketV1, reads=PARTS_ARRIVED_READS)
    async def on_parts_arrived(
        session: AsyncSession, env: Envelope[PartsArrivedForTicketV1]
    ) -> None:
        await parts_arrival.parts_arrived(session, parts_arrival_of(env), utcnow(), settings)


def parts_arrival_of(env: Envelope[PartsArrivedForTicketV1]) -> parts_arrival.PartsArrival:
    d = env.data
    return parts_arrival.PartsArrival(
        ticket_no=d.ticket_no,
        reservation_id=d.reservation_id,
        part_no=d.part_no,
        part_name=d.part_name,
        quantity=d.quantity,
        location_id=d.location_id,
        still_waiting=d.still_waiting,
    )


def signed_contract(env: Envelope[ContractSignedV1]) -> entitlements.SignedContract:
    data = env.data
    return entitlements.SignedContract(
        contract_no=data.contract_no,
        customer_id=data.customer.customer_id,
        customer_name=data.customer.name,
        contacts=[c.model_dump(mode="json") for c in data.customer.contacts],
        service_levels=[s.model_dump(mode="json") for s in data.service_levels],
        calendar=data.calendar,
        dealer_id=data.dealer_id,
        signed_at=data.signed_at,
        source_event_id=env.id,
        units=[
            entitlements.EntitledUnit(p.serial_no, p.model, p.warranty_end) for p in data.products
        ],
    )


def partner_request(data: TicketRequestedV1) -> partner_requests.PartnerRequest:
    return partner_requests.PartnerRequest(
        channel=data.channel,
        external_ref=data.external_ref,
        request_type=data.request_type,
        urgency=data.urgency,
        description=data.description,
        customer_name=data.customer_name,
        contact=data.contact,
        customer_id=data.customer_id,
        contract_no=data.contract_no,
        product_model=data.product_model,
        serial_no=data.serial_no,
        batch_no=data.batch_no,
        dealer_id=data.dealer_id,
    )


def survey_answer(env: Envelope[SurveyAnsweredV1]) -> follow_ups.SurveyAnswer:
    data = env.data
    return follow_ups.SurveyAnswer(
        survey_id=data.survey_id,
        ticket_id=data.ticket_id,
        ticket_no=data.ticket_no,
        efficiency=data.efficiency,
        attitude=data.attitude,
        professionalism=data.professionalism,
        comment=data.comment,
        low_score=data.low_score,
        customer_id=data.customer_id,
        product_model=data.product_model,
        dealer_id=data.dealer_id,
        correlation_id=env.correlation_id,
        answered_via=data.answered_via,
        recorded_by_agent=data.recorded_by_agent,
    )


def register_sla_jobs(scheduler: Scheduler, settings: TicketsSettings, clock: Now) -> None:
    """A clock's warning, breach and escalation jobs (keyed by the clock's id)."""

    @scheduler.handles(sla.WARNING)
    async def on_warning(session: AsyncSession, job: Job) -> None:
        await sla.warn(session, int(job.key), clock(), settings)

    @scheduler.handles(sla.BREACH)
    async def on_breach(session: AsyncSession, job: Job) -> None:
        await sla.breach(session, int(job.key), clock(), settings)

    @scheduler.handles(sla.ESCALATE)
    async def on_escalate(session: AsyncSession, job: Job) -> None:
        clock_id = int(job.key.split(":")[0])  # "<clock id>:<level>"
        deadline = datetime.fromisoformat(job.payload["deadline"])
        await sla.escalate(session, clock_id, deadline, clock())


def register_quality_jobs(scheduler: Scheduler, clock: Now) -> None:
    """A cause analysis's deadline (keyed "<ticket id>:<round>"), a corrective action's due date
    (keyed by its id) and a complaint step's deadline (keyed "<ticket id>:<round>:<step>"): each
    announces its miss once."""

    @scheduler.handles(faults.ANALYSIS_DUE)
    async def on_analysis_due(session: AsyncSession, job: Job) -> None:
        await faults.analysis_overdue(session, job.key, clock())

    @scheduler.handles(corrective.ACTION_DUE)
    async def on_action_due(session: AsyncSession, job: Job) -> None:
        await corrective.action_overdue(session, job.key, clock())

    @scheduler.handles(complaints.STEP_DUE)
    async def on_complaint_step_due(session: AsyncSession, job: Job) -> None:
        await complaints.step_overdue(session, job.key, clock())


def register_year_check(scheduler: Scheduler, settings: TicketsSettings, clock: Now) -> None:
    """Daily from 1 November: tell admins (CalendarYearMissing) until next year's table is
    imported."""

    @scheduler.handles(calendars.YEAR_CHECK)
    async def check(session: AsyncSession, job: Job) -> None:
        await calendars.check_next_year(session, clock(), settings.business_timezone)
