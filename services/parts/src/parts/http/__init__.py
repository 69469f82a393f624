"""HTTP of the parts service: the part master, locations, the ledger and stock, reservations,
a ticket's parts cost, Excel import and export."""

from .catalog import LocationsController, PartsController, ReorderController
from .excel import ExcelController
from .stock import (
    MovementsController,
    ReservationsController,
    StockController,
    TicketCostsController,
)

CONTROLLERS = [
    PartsController,
    LocationsController,
    ReorderController,
    MovementsController,
    StockController,
    ReservationsController,
    TicketCostsController,
    ExcelController,
]

__all__ = ["CONTROLLERS"]
