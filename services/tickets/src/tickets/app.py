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

from . import messaging, sla
from .http import calendars_controller, entitlements_controller, ticket_controllers
from .settings import TicketsSettings

DESCRIPTION = "售后服务工单与SLA — after-sales tickets, working-time SLA clocks, dispatch and completion"
PUBLISHES = [TicketOpenedV1, TicketAssignedV1, SlaWarningV1, SlaBreachedV1, SlaEscalatedV1, SlaDeadlineChangedV1,
             ServiceCompletedV1, TicketReopenedV1, FollowUpOpenedV1, CalendarChangedV1, CalendarYearMissingV1]


def create_app(settings: TicketsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=PUBLISHES)
    messaging.register(rt.inbox, settings)
    sla.register_jobs(rt.scheduler, settings, utcnow)
    return create_service_app(
        rt,
        route_handlers=[entitlements_controller(rt), *ticket_controllers(rt), calendars_controller(rt)],
        description=DESCRIPTION,
    )
