"""Event handlers and deadlines of the surveys service: decode (done by the inbox), call one use
case."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import Envelope, ServiceCompletedV1
from aftersales_shared.inbox import Inbox
from aftersales_shared.scheduler import Job, Scheduler

from .domain import Policy
from .usecases import invitations, return_visits
from .usecases.invitations import INVITE_JOB, REDACT_JOB, CompletedService

# the fields of ServiceCompleted read below (checked against the producer's schema in tests/events)
SERVICE_COMPLETED_READS = (
    "ticket_id",
    "ticket_no",
    "completed_at",
    "request_type",
    "channel",
    "customer_id",
    "customer_name",
    "contact",
    "contact.name",
    "contact.phone",
    "contact.email",
    "contact.role",
    "engineer_id",
    "dealer_id",
    "product_model",
    "urgency",
)


def completed_service(env: Envelope[ServiceCompletedV1]) -> CompletedService:
    data = env.data
    return CompletedService(
        event_id=env.id,
        ticket_id=data.ticket_id,
        ticket_no=data.ticket_no,
        completed_at=data.completed_at,
        request_type=data.request_type,
        channel=data.channel,
        customer_id=data.customer_id,
        customer_name=data.customer_name,
        contact=data.contact.model_dump(exclude_none=True),
        engineer_id=data.engineer_id,
        dealer_id=data.dealer_id,
        product_model=data.product_model,
        urgency=data.urgency,
    )


def register(inbox: Inbox, policy: Policy) -> None:
    @inbox.handles(ServiceCompletedV1, reads=SERVICE_COMPLETED_READS)
    async def on_service_completed(
        session: AsyncSession, env: Envelope[ServiceCompletedV1]
    ) -> None:
        service, now = completed_service(env), utcnow()
        await invitations.plan_invitation(session, service, policy, now)
        await return_visits.plan_return_visit(session, service, policy, now)


def register_jobs(scheduler: Scheduler, policy: Policy) -> None:
    """The invitation and return-visit deadlines; also used by tests on a scheduler with a fake
    clock."""

    @scheduler.handles(INVITE_JOB)
    async def send_invitation(session: AsyncSession, job: Job) -> None:
        await invitations.send_invitation(session, job.key, policy, max(job.due_at, utcnow()))

    @scheduler.handles(return_visits.VISIT_DUE_JOB)
    async def return_visit_due(session: AsyncSession, job: Job) -> None:
        await return_visits.fire_visit_due(session, job.key, max(job.due_at, utcnow()))

    @scheduler.handles(REDACT_JOB)
    async def redact_link(session: AsyncSession, job: Job) -> None:
        survey_id = job.key.rsplit(":", 1)[0]
        await invitations.redact_link(
            session, survey_id, job.payload["event_id"], job.payload["attempt"], policy
        )
