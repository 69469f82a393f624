"""Wiring of the parts service."""

from litestar import Litestar

from aftersales_shared.events import (
    PartIssuedV1,
    PartReturnedV1,
    PartsArrivedForTicketV1,
    StockBelowReorderPointV1,
)
from aftersales_shared.service import build_runtime, create_service_app

from .http import CONTROLLERS
from .settings import PartsSettings

DESCRIPTION = (
    "备件库存 — spare parts: the part master, stock per location (central warehouse, regional "
    "stores, engineers' vans, dealer stores), the append-only movement ledger, reservations for "
    "tickets waiting for parts, and the parts cost of each ticket"
)
PUBLISHES = [PartIssuedV1, PartReturnedV1, StockBelowReorderPointV1, PartsArrivedForTicketV1]


def create_app(settings: PartsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=PUBLISHES)
    return create_service_app(rt, route_handlers=CONTROLLERS, description=DESCRIPTION)
