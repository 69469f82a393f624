"""Event handlers of the parts service: decode (done by the inbox), call one use case."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import Envelope, TicketAssignedV1, TicketOpenedV1
from aftersales_shared.inbox import Inbox
from aftersales_shared.scheduler import Job, Scheduler

from .settings import PartsSettings
from .usecases import expenses, money

# the fields of TicketOpened read below (checked against the producer's schema in tests/events)
TICKET_OPENED_READS = (
    "ticket_id",
    "ticket_no",
    "opened_at",
    "customer_id",
    "customer_name",
    "contact",
    "contact.name",
    "contact.phone",
    "contact.email",
    "contact.role",
    "contact.wechat_openid",
    "contract_no",
    "product_model",
    "serial_no",
    "dealer_id",
    "in_warranty",
)

# whose tickets an engineer's expense lines may name
TICKET_ASSIGNED_READS = ("ticket_no", "assigned_at", "assignee_id", "assignee_kind")


def opened_ticket(env: Envelope[TicketOpenedV1]) -> money.OpenedTicket:
    data = env.data
    return money.OpenedTicket(
        ticket_no=data.ticket_no,
        ticket_id=data.ticket_id,
        customer_id=data.customer_id,
        customer_name=data.customer_name,
        contact=data.contact.model_dump(mode="json", exclude_none=True),
        contract_no=data.contract_no,
        product_model=data.product_model,
        serial_no=data.serial_no,
        dealer_id=data.dealer_id,
        in_warranty=data.in_warranty,
        opened_at=data.opened_at,
    )


def register(inbox: Inbox) -> None:
    @inbox.handles(TicketOpenedV1, reads=TICKET_OPENED_READS)
    async def on_ticket_opened(session: AsyncSession, env: Envelope[TicketOpenedV1]) -> None:
        await money.record_ticket(session, opened_ticket(env), utcnow())

    @inbox.handles(TicketAssignedV1, reads=TICKET_ASSIGNED_READS)
    async def on_ticket_assigned(session: AsyncSession, env: Envelope[TicketAssignedV1]) -> None:
        if env.data.assignee_kind == "engineer":
            await expenses.record_assignment(
                session, env.data.ticket_no, env.data.assignee_id, env.data.assigned_at
            )


def register_jobs(scheduler: Scheduler, settings: PartsSettings) -> None:
    """Attach the deadline handlers (tests attach them to schedulers of their own)."""

    @scheduler.handles(expenses.SUBMIT_DUE_JOB)
    async def on_submit_due(session: AsyncSession, job: Job) -> None:
        await expenses.submit_overdue(
            session, int(job.payload["claim_id"]), settings.expense_submit_working_days, utcnow()
        )

    @scheduler.handles(expenses.APPROVAL_DUE_JOB)
    async def on_approval_due(session: AsyncSession, job: Job) -> None:
        await expenses.approval_overdue(
            session,
            int(job.payload["claim_id"]),
            int(job.payload["submission"]),
            int(job.payload["working_days"]),
            job.due_at,
            utcnow(),
        )
