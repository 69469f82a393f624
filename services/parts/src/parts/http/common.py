"""What every controller of the parts API shares: roles and pages of rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aftersales_shared.auth import Role
from aftersales_shared.schemas import Page

from ..domain import STOCK_KEEPERS

R = Role
# the part master, locations, imports: the stock keepers (no warehouse role exists: domain.py)
KEEPERS = STOCK_KEEPERS
# moving stock: keepers anywhere, a dealer in its own store, an engineer with their own van
MOVERS = (*STOCK_KEEPERS, R.ENGINEER, R.DEALER)
# reading the catalogue and stock (a dealer sees only its own store's stock and ledger)
READERS = (
    *STOCK_KEEPERS,
    R.ENGINEER,
    R.SERVICE_AGENT,
    R.TECHNICAL,
    R.FINANCE,
    R.DEALER,
)
# a ticket's parts cost: service staff, engineers, finance
COST_READERS = (*STOCK_KEEPERS, R.ENGINEER, R.SERVICE_AGENT, R.FINANCE, R.TECHNICAL)


def page_of(out: Any, rows: Sequence[Any], total: int, limit: int, offset: int) -> Any:
    return Page[out](
        items=[out.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
