"""Wiring of the reports service."""

from litestar import Litestar

from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.db import utcnow
from aftersales_shared.events import ReportPublishedV1
from aftersales_shared.service import build_runtime, create_service_app

from . import jobs, messaging
from .http import CONTROLLERS
from .settings import ReportsSettings
from .usecases.cache import ReportCache, track_changes
from .usecases.publishing import Schedule

DESCRIPTION = (
    "售后服务月度分析报告 — the monthly after-sales analysis (failure rates per model and batch, "
    "SLA, satisfaction, dealers) from an analytical read model fed only by events, published on "
    "the first working day of each month"
)
PUBLISHES = [ReportPublishedV1]


def create_app(settings: ReportsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=PUBLISHES)
    keep_calendar_copies(rt.inbox)
    messaging.register(rt.inbox)
    track_changes(rt.sessions)  # every change to the read model bumps its version
    policy = settings.policy()
    schedule = Schedule(at=settings.publish_at, base_url=settings.public_base_url)
    jobs.register_publication(rt.scheduler, policy, schedule, utcnow)
    if settings.schedule_enabled:
        rt.startup_hooks.append(jobs.arm_at_start(policy, schedule, utcnow))
    cache = ReportCache()
    app = create_service_app(
        rt,
        route_handlers=CONTROLLERS,
        description=DESCRIPTION,
        dependencies={"policy": policy, "schedule": schedule, "report_cache": cache},
    )
    app.state["report_cache"] = cache
    return app
