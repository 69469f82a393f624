"""Wiring of the reports service."""

from litestar import Litestar

from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.service import build_runtime, create_service_app

from . import messaging
from .http import CONTROLLERS
from .settings import ReportsSettings

DESCRIPTION = (
    "售后服务月度分析报告 — the monthly after-sales analysis (failure rates per model and batch, "
    "SLA, satisfaction, dealers) from an analytical read model fed only by events"
)


def create_app(settings: ReportsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=[])
    keep_calendar_copies(rt.inbox)
    messaging.register(rt.inbox)
    return create_service_app(
        rt,
        route_handlers=CONTROLLERS,
        description=DESCRIPTION,
        dependencies={"policy": settings.policy()},
    )
