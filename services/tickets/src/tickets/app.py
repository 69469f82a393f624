"""Wiring of the tickets service."""

from litestar import Litestar

from aftersales_shared.events import ServiceCompletedV1, SlaBreachedV1, TicketOpenedV1
from aftersales_shared.service import build_runtime, create_service_app

from . import messaging
from .http import entitlements_controller
from .settings import TicketsSettings

DESCRIPTION = "售后服务工单与SLA — after-sales tickets, working-time SLA clocks, dispatch and completion"


def create_app(settings: TicketsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=[TicketOpenedV1, SlaBreachedV1, ServiceCompletedV1])
    messaging.register(rt.inbox)
    return create_service_app(rt, route_handlers=[entitlements_controller(rt)], description=DESCRIPTION)
