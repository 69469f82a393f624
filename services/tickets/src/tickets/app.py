"""Wiring of the tickets service."""

import asyncio
from functools import partial

from litestar import Litestar

from aftersales_shared.db import utcnow
from aftersales_shared.events import (
    CalendarChangedV1,
    CalendarYearMissingV1,
    CauseAnalysisOverdueV1,
    ComplaintClassifiedV1,
    ComplaintEscalatedV1,
    ComplaintLimitToldV1,
    ComplaintOverdueV1,
    ComplaintResolutionProposedV1,
    CorrectiveActionChangedV1,
    CorrectiveActionOverdueV1,
    FaultClassifiedV1,
    FollowUpOpenedV1,
    KnowledgeArticleChangedV1,
    ServiceCompletedV1,
    ServiceSheetSignedV1,
    SlaBreachedV1,
    SlaDeadlineChangedV1,
    SlaEscalatedV1,
    SlaWarningV1,
    TicketAssignedV1,
    TicketOpenedV1,
    TicketReopenedV1,
)
from aftersales_shared.publiclinks import GuessLimiter
from aftersales_shared.service import Runtime, build_runtime, create_service_app

from . import messaging, textsearch
from .http import CONTROLLERS, PUBLIC_PREFIXES
from .mailserver import Mailbox
from .settings import TicketsSettings
from .usecases import calendars, engineers
from .usecases.intake import IntakeBatcher

DESCRIPTION = (
    "售后服务工单与SLA — after-sales tickets, working-time SLA clocks, dispatch and completion"
)
PUBLISHES = [
    TicketOpenedV1,
    TicketAssignedV1,
    SlaWarningV1,
    SlaBreachedV1,
    SlaEscalatedV1,
    SlaDeadlineChangedV1,
    ServiceCompletedV1,
    TicketReopenedV1,
    FollowUpOpenedV1,
    CalendarChangedV1,
    CalendarYearMissingV1,
    FaultClassifiedV1,
    CauseAnalysisOverdueV1,
    CorrectiveActionOverdueV1,
    CorrectiveActionChangedV1,
    ComplaintLimitToldV1,
    ComplaintResolutionProposedV1,
    ComplaintOverdueV1,
    ComplaintEscalatedV1,
    ComplaintClassifiedV1,
    ServiceSheetSignedV1,
    KnowledgeArticleChangedV1,
]


def create_app(settings: TicketsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=PUBLISHES)
    messaging.register(rt.inbox, settings)
    messaging.register_sla_jobs(rt.scheduler, settings, utcnow)
    messaging.register_year_check(rt.scheduler, settings, utcnow)
    messaging.register_quality_jobs(rt.scheduler, utcnow)
    rt.startup_hooks.append(_arm_year_check)
    rt.startup_hooks.append(_seed_roster)
    rt.startup_hooks.append(_load_search_words)
    limiter = GuessLimiter(settings.guess_limit, settings.guess_window_seconds)
    storage = settings.file_storage()
    mailbox = Mailbox(rt.sessions, settings, storage)
    if settings.mail_port is not None:
        rt.startup_hooks.append(partial(_open_mailbox, mailbox))
    app = create_service_app(
        rt,
        route_handlers=CONTROLLERS,
        description=DESCRIPTION,
        public_prefixes=PUBLIC_PREFIXES,
        dependencies={
            "intake": IntakeBatcher(rt.sessions, settings),
            "limiter": limiter,
            "storage": storage,
        },
    )
    app.state["guess_limiter"] = limiter
    app.state["mailbox"] = mailbox
    return app


async def _open_mailbox(mailbox: Mailbox, rt: Runtime) -> None:
    """The SMTP receiver listens before the service reports ready; the sender runs beside."""
    await mailbox.start()
    rt.background.append(asyncio.create_task(mailbox.run(), name="mailbox"))


async def _arm_year_check(rt: Runtime) -> None:
    async with rt.sessions.begin() as session:
        await calendars.ensure_year_check(session, utcnow(), rt.settings.business_timezone)


async def _seed_roster(rt: Runtime) -> None:
    """TICKETS_ENGINEERS into the empty roster, once (replicas starting together take turns)."""
    async with rt.sessions.begin() as session:
        await engineers.seed(session, rt.settings.engineers, utcnow())


async def _load_search_words(rt: Runtime) -> None:
    """jieba's dictionary, once per process and off the event loop (the knowledge base search)."""
    await asyncio.to_thread(textsearch.load)
