"""Wiring of the dealers service."""

from litestar import Litestar

from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.events import (
    CardOverdueV1,
    DeductionIssuedV1,
    PartsReturnOverdueV1,
    WarrantyCardRegisteredV1,
)
from aftersales_shared.events.dealers import (
    CardDueSoonV1,
    DealerContactsChangedV1,
    StockingPlanMissedV1,
    WarrantyServiceOverdueV1,
)
from aftersales_shared.service import build_runtime, create_service_app

from . import messaging
from .http import CONTROLLERS
from .settings import DealersSettings

DESCRIPTION = "经销商与三包 — dealers and the statutory warranty (三包) cycle"
PUBLISHES = [
    WarrantyCardRegisteredV1,
    CardDueSoonV1,
    CardOverdueV1,
    WarrantyServiceOverdueV1,
    PartsReturnOverdueV1,
    DeductionIssuedV1,
    StockingPlanMissedV1,
    DealerContactsChangedV1,
]


def create_app(settings: DealersSettings) -> Litestar:
    rt = build_runtime(settings, publishes=PUBLISHES)
    keep_calendar_copies(rt.inbox)
    messaging.register(rt.inbox, settings)
    messaging.register_deadlines(rt.scheduler)
    return create_service_app(rt, route_handlers=CONTROLLERS, description=DESCRIPTION)
