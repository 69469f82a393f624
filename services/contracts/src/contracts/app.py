"""Wiring of the contracts service."""

from litestar import Litestar

from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.events import (
    ContractArchivedV1,
    ContractArchiveOverdueV1,
    ContractSignedV1,
    DeliveryNoticeV1,
)
from aftersales_shared.events.contracts import (
    InstallationBookingOverdueV1,
    ObjectionAnswerOverdueV1,
)
from aftersales_shared.service import build_runtime, create_service_app

from .http import CONTROLLERS
from .messaging import register_jobs
from .settings import ContractsSettings

DESCRIPTION = (
    "销售合同：从线索到签署、归档与服务权益 — sales contracts from lead to signed contract and "
    "entitlements"
)
PUBLISHES = [
    ContractSignedV1,
    ContractArchivedV1,
    ContractArchiveOverdueV1,
    DeliveryNoticeV1,
    ObjectionAnswerOverdueV1,
    InstallationBookingOverdueV1,
]


def create_app(settings: ContractsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=PUBLISHES)
    keep_calendar_copies(rt.inbox)
    register_jobs(rt.scheduler)
    return create_service_app(rt, route_handlers=CONTROLLERS, description=DESCRIPTION)
