"""Event handlers and deadline handlers of the dealers service: decode, call one use case."""

from __future__ import annotations

from zoneinfo import ZoneInfo

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

from . import domain as d
from .settings import DealersSettings
from .usecases import cards, measures, repairs, returns, stocking, units
from .usecases.common import ARRANGE_DUE, CARD_OVERDUE, CARD_REMINDER, PLAN_DUE, RETURN_DUE

# the fields of each event these handlers (and the use cases they call) read: checked against the
# producers' committed schemas by tests/events/test_consumer_reads.py
CONTRACT_SALE_READS = (
    "contract_no",
    "dealer_id",
    "signed_at",
    "customer.name",
    "products.serial_no",
    "products.model",
    "products.warranty_end",
)
SLA_BREACH_READS = (
    "breached_at",
    "clock",
    "dealer_id",
    "escalation_level",
    "ticket_id",
    "ticket_no",
)
SURVEY_READS = (
    "answered_at",
    "attitude",
    "dealer_id",
    "efficiency",
    "professionalism",
    "survey_id",
    "ticket_no",
)


def contract_sale(env: Envelope[ContractSignedV1], cfg: DealersSettings) -> units.Sale:
    """A contract signed through a dealer sells its units on the local day it was signed."""
    data = env.data
    return units.Sale(
        source=units.SaleSource.CONTRACT,
        dealer_id=data.dealer_id,
        sale_date=d.local_date(data.signed_at, ZoneInfo(cfg.business_timezone)),
        customer_name=data.customer.name,
        items=tuple(units.SoldItem(p.serial_no, p.model, p.warranty_end) for p in data.products),
        contract_no=data.contract_no,
        event_id=env.id,
    )


def register(inbox: Inbox, cfg: DealersSettings) -> None:
    @inbox.handles(ContractSignedV1, reads=CONTRACT_SALE_READS)
    async def on_contract_signed(session: AsyncSession, env: Envelope[ContractSignedV1]) -> None:
        await units.register_sale(session, contract_sale(env, cfg), utcnow(), cfg)

    @inbox.handles(TicketOpenedV1, reads=("dealer_id", "opened_at", "ticket_id", "ticket_no"))
    async def on_ticket_opened(session: AsyncSession, env: Envelope[TicketOpenedV1]) -> None:
        await measures.record_ticket_opened(session, env.data)

    @inbox.handles(SlaBreachedV1, reads=SLA_BREACH_READS)
    async def on_sla_breached(session: AsyncSession, env: Envelope[SlaBreachedV1]) -> None:
        await measures.record_sla_breach(session, env.data)

    @inbox.handles(
        ServiceCompletedV1, reads=("completed_at", "dealer_id", "ticket_id", "ticket_no")
    )
    async def on_service_completed(
        session: AsyncSession, env: Envelope[ServiceCompletedV1]
    ) -> None:
        await measures.record_completion(session, env.data)

    @inbox.handles(SurveyAnsweredV1, reads=SURVEY_READS)
    async def on_survey_answered(session: AsyncSession, env: Envelope[SurveyAnsweredV1]) -> None:
        await measures.record_survey(session, env.data)


def register_deadlines(scheduler: Scheduler) -> None:
    @scheduler.handles(CARD_REMINDER)
    async def card_reminder(session: AsyncSession, job: Job) -> None:
        await cards.fire_card_reminder(session, job.key)

    @scheduler.handles(CARD_OVERDUE)
    async def card_overdue(session: AsyncSession, job: Job) -> None:
        await cards.fire_card_overdue(session, job.key, job.due_at)

    @scheduler.handles(ARRANGE_DUE)
    async def arrange_due(session: AsyncSession, job: Job) -> None:
        await repairs.fire_arrange_due(session, job.key, job.due_at)

    @scheduler.handles(RETURN_DUE)
    async def return_due(session: AsyncSession, job: Job) -> None:
        await returns.fire_return_due(session, job.payload, job.due_at)

    @scheduler.handles(PLAN_DUE)
    async def plan_due(session: AsyncSession, job: Job) -> None:
        await stocking.fire_plan_due(session, job.key, job.due_at)
