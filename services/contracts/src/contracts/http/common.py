"""What every controller of the contracts API shares: who may do what (and which contracts a
dealer may read), and the business time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from litestar import Request

from aftersales_shared.auth import Role, dealer_scope
from aftersales_shared.errors import NotFound

from ..models import ContractRow
from ..settings import ContractsSettings

SALES = (Role.SALES, Role.SALES_MANAGER)  # sales reps and sales assistants hold the sales role
REVIEWERS = (Role.LEGAL, Role.FINANCE, Role.DELIVERY)
READERS = (*SALES, *REVIEWERS, Role.MANAGER, Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR)
ORDER_READERS = (*READERS, Role.ENGINEER)
AUDITORS = (Role.SALES_MANAGER, Role.MANAGER, Role.LEGAL, Role.FINANCE)


def business_tz(settings: ContractsSettings) -> ZoneInfo:
    """The time zone whose calendar day counts (lead horizons, quote validity, service terms)."""
    return ZoneInfo(settings.business_timezone)


def dealers_own(request: Request, row: ContractRow) -> None:
    """A dealer reads only the contracts sold through it: another's is the same 404 as a
    contract nobody has."""
    dealer = dealer_scope(request.user)
    if dealer is not None and row.dealer_id != dealer:
        raise NotFound(f"合同{row.contract_no}不存在 (contract not found)")
