"""HTTP of the parts service: the part master, locations, the ledger and stock, reservations,
a ticket's cost (parts, labour, travel), warranty or chargeable, the price list, quotes and the
customer's quote page, invoice requests, Excel import and export, expense claims (报销)."""

from .catalog import LocationsController, PartsController, ReorderController
from .excel import ExcelController
from .expenses import ExpenseClaimsController
from .invoices import InvoiceRegisterController, InvoiceRegisterV2Controller
from .money import PriceListController, TicketMoneyController
from .quote_page import PUBLIC_PREFIX, QuotePageController
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
    TicketMoneyController,
    InvoiceRegisterController,
    InvoiceRegisterV2Controller,
    PriceListController,
    QuotePageController,
    ExpenseClaimsController,
]

__all__ = ["CONTROLLERS", "PUBLIC_PREFIX"]
