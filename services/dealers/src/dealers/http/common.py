"""What every controller of the dealers API shares: roles, the acting user, pages of rows."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request

from aftersales_shared.auth import Role, dealer_scope
from aftersales_shared.db import utcnow
from aftersales_shared.http import QueryParameter
from aftersales_shared.schemas import page_of  # noqa: F401 (re-exported for the controllers)

from ..settings import DealersSettings
from ..usecases.common import Ctx

R = Role
READ = (
    R.TECHNICAL,
    R.FINANCE,
    R.MANAGER,
    R.DEALER,
)  # dealer users are confined to their own dealer
DEALER_WORK = (R.DEALER, R.MANAGER)
WindowDays = Annotated[
    int | None, QueryParameter(ge=7, le=730, description="measurement window in days")
]


def ctx(request: Request[Any, Any, Any], settings: DealersSettings) -> Ctx:
    """Who acts, now, with the service's settings (its business time zone among them)."""
    return Ctx(request.user, utcnow(), settings)


def scope(request: Request[Any, Any, Any]) -> str | None:
    """The dealer a dealer user is confined to; None for company staff."""
    return dealer_scope(request.user)
