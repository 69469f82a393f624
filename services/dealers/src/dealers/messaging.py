"""Event handlers and deadline handlers of the dealers service: decode, call one use case."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import (
    ContractSignedV1,
    Envelope,
    ServiceCompletedV1,
    SlaBreachedV1,
    SurveyAnsweredV1,
    TicketOpenedV1,
)
from aftersales_shared.inbox import Inbox
from aftersales_shared.scheduler import Job, Scheduler

from . import services
from .settings import DealersSettings


def register(inbox: Inbox, cfg: DealersSettings) -> None:
    @inbox.handles(ContractSignedV1)
    async def on_contract_signed(session: AsyncSession, env: Envelope[ContractSignedV1]) -> None:
        await services.units_from_contract(session, env, utcnow(), cfg)

    @inbox.handles(TicketOpenedV1)
    async def on_ticket_opened(session: AsyncSession, env: Envelope[TicketOpenedV1]) -> None:
        await services.record_ticket_opened(session, env.data)

    @inbox.handles(SlaBreachedV1)
    async def on_sla_breached(session: AsyncSession, env: Envelope[SlaBreachedV1]) -> None:
        await services.record_sla_breach(session, env.data)

    @inbox.handles(ServiceCompletedV1)
    async def on_service_completed(
        session: AsyncSession, env: Envelope[ServiceCompletedV1]
    ) -> None:
        await services.record_completion(session, env.data)

    @inbox.handles(SurveyAnsweredV1)
    async def on_survey_answered(session: AsyncSession, env: Envelope[SurveyAnsweredV1]) -> None:
        await services.record_survey(session, env.data)


def register_deadlines(scheduler: Scheduler) -> None:
    @scheduler.handles(services.CARD_REMINDER)
    async def card_reminder(session: AsyncSession, job: Job) -> None:
        await services.fire_card_reminder(session, job.key)

    @scheduler.handles(services.CARD_OVERDUE)
    async def card_overdue(session: AsyncSession, job: Job) -> None:
        await services.fire_card_overdue(session, job.key, job.due_at)

    @scheduler.handles(services.ARRANGE_DUE)
    async def arrange_due(session: AsyncSession, job: Job) -> None:
        await services.fire_arrange_due(session, job.key, job.due_at)

    @scheduler.handles(services.RETURN_DUE)
    async def return_due(session: AsyncSession, job: Job) -> None:
        await services.fire_return_due(session, job.payload, job.due_at)

    @scheduler.handles(services.PLAN_DUE)
    async def plan_due(session: AsyncSession, job: Job) -> None:
        await services.fire_plan_due(session, job.key, job.due_at)
