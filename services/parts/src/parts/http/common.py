"""What every controller of the parts API shares: roles and pages of rows."""

from __future__ import annotations

from aftersales_shared.auth import Role
from aftersales_shared.schemas import page_of  # noqa: F401 (re-exported for the controllers)

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
