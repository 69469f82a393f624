"""Wiring of the surveys service."""

from litestar import Litestar

from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.service import build_runtime, create_service_app

from .settings import SurveysSettings

DESCRIPTION = "售后满意度调查 — satisfaction surveys after every completed service"


def create_app(settings: SurveysSettings) -> Litestar:
    rt = build_runtime(settings)
    keep_calendar_copies(rt.inbox)
    return create_service_app(rt, route_handlers=[], description=DESCRIPTION)
