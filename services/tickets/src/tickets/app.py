"""Wiring of the tickets service."""

from litestar import Litestar

from aftersales_shared.db import utcnow
from aftersales_shared.events import (
    CalendarChangedV1,
    CalendarYearMissingV1,
    FollowUpOpenedV1,
    ServiceCompletedV1,
    SlaBreachedV1,
    SlaDeadlineChangedV1,
    SlaEscalatedV1,
    SlaWarningV1,
    TicketAssignedV1,
    TicketOpenedV1,
    TicketReopenedV1,
)
from aftersales_shared.service import build_runtime, create_service_app

from . import calendar_admin, messaging, sla
from .http import calendars_controller, entitlements_controller, ticket_controllers
from .settings import TicketsSettings

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
]


def create_app(settings: TicketsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=PUBLISHES)
    messaging.register(rt.inbox, settings)
    sla.register_jobs(rt.scheduler, settings, utcnow)
    calendar_admin.register_year_check(rt.scheduler, utcnow)
    rt.startup_hooks.append(_arm_year_check)
    return create_service_app(
        rt,
        route_handlers=[
            entitlements_controller(rt),
            *ticket_controllers(rt),
            calendars_controller(rt),
        ],
        description=DESCRIPTION,
    )


async def _arm_year_check(rt) -> None:  # type: ignore[no-untyped-def]
    async with rt.sessions.begin() as session:
        await calendar_admin.ensure_year_check(session, utcnow())
