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

from .settings import DealersSettings
from .usecases import cards as uc_cards
from .usecases import common as uc_common
from .usecases import measures as uc_measures
from .usecases import repairs as uc_repairs
from .usecases import returns as uc_returns
from .usecases import stocking as uc_stocking
from .usecases import units as uc_units


def register(inbox: Inbox, cfg: DealersSettings) -> None:
    @inbox.handles(ContractSignedV1)
    async def on_contract_signed(session: AsyncSession, env: Envelope[ContractSignedV1]) -> None:
        await uc_units.units_from_contract(session, env, utcnow(), cfg)

    @inbox.handles(TicketOpenedV1)
    async def on_ticket_opened(session: AsyncSession, env: Envelope[TicketOpenedV1]) -> None:
        await uc_measures.record_ticket_opened(session, env.data)

    @inbox.handles(SlaBreachedV1)
    async def on_sla_breached(session: AsyncSession, env: Envelope[SlaBreachedV1]) -> None:
        await uc_measures.record_sla_breach(session, env.data)

    @inbox.handles(ServiceCompletedV1)
    async def on_service_completed(
        session: AsyncSession, env: Envelope[ServiceCompletedV1]
    ) -> None:
        await uc_measures.record_completion(session, env.data)

    @inbox.handles(SurveyAnsweredV1)
    async def on_survey_answered(session: AsyncSession, env: Envelope[SurveyAnsweredV1]) -> None:
        await uc_measures.record_survey(session, env.data)


def register_deadlines(scheduler: Scheduler) -> None:
    @scheduler.handles(uc_common.CARD_REMINDER)
    async def card_reminder(session: AsyncSession, job: Job) -> None:
        await uc_cards.fire_card_reminder(session, job.key)

    @scheduler.handles(uc_common.CARD_OVERDUE)
    async def card_overdue(session: AsyncSession, job: Job) -> None:
        await uc_cards.fire_card_overdue(session, job.key, job.due_at)

    @scheduler.handles(uc_common.ARRANGE_DUE)
    async def arrange_due(session: AsyncSession, job: Job) -> None:
        await uc_repairs.fire_arrange_due(session, job.key, job.due_at)

    @scheduler.handles(uc_common.RETURN_DUE)
    async def return_due(session: AsyncSession, job: Job) -> None:
        await uc_returns.fire_return_due(session, job.payload, job.due_at)

    @scheduler.handles(uc_common.PLAN_DUE)
    async def plan_due(session: AsyncSession, job: Job) -> None:
        await uc_stocking.fire_plan_due(session, job.key, job.due_at)
