"""What every controller of the contracts API shares: who may do what, and the business time
zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aftersales_shared.auth import Role

from ..settings import ContractsSettings

SALES = (Role.SALES, Role.SALES_MANAGER)  # sales reps and sales assistants hold the sales role
REVIEWERS = (Role.LEGAL, Role.FINANCE, Role.DELIVERY)
READERS = (*SALES, *REVIEWERS, Role.MANAGER, Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR)
ORDER_READERS = (*READERS, Role.ENGINEER)
AUDITORS = (Role.SALES_MANAGER, Role.MANAGER, Role.LEGAL, Role.FINANCE)


def business_tz(settings: ContractsSettings) -> ZoneInfo:
    """The time zone whose calendar day counts (lead horizons, quote validity, service terms)."""
    return ZoneInfo(settings.business_timezone)
