"""Wiring of the contracts service."""

from litestar import Litestar

from aftersales_shared.events import ContractSignedV1
from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.service import build_runtime, create_service_app

from .http import contracts_controller
from .settings import ContractsSettings

DESCRIPTION = "销售合同：从线索到签署、归档与服务权益 — sales contracts from lead to signed contract and entitlements"


def create_app(settings: ContractsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=[ContractSignedV1])
    keep_calendar_copies(rt.inbox)
    return create_service_app(rt, route_handlers=[contracts_controller(rt)], description=DESCRIPTION)
