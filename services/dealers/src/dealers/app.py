"""Wiring of the dealers service."""

from litestar import Litestar

from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.service import build_runtime, create_service_app

from .settings import DealersSettings

DESCRIPTION = "经销商与三包 — dealers and the statutory warranty (三包) cycle"


def create_app(settings: DealersSettings) -> Litestar:
    rt = build_runtime(settings)
    keep_calendar_copies(rt.inbox)
    return create_service_app(rt, route_handlers=[], description=DESCRIPTION)
