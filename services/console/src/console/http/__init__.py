"""The console's pages."""

from .admin import AdminController, CalendarAdminController
from .board import BoardController
from .complaints import ComplaintsController
from .contracts import ContractsController, CustomersController
from .corrective import CorrectiveController
from .dealer import DealerController
from .dealer_work import DealerWorkController
from .engineers import EngineersController
from .expenses import ExpensesController
from .intake import IntakeController
from .invoices import InvoicesController
from .knowledge import KnowledgeController
from .live import live
from .oidc import OidcController
from .ops import health, ready
from .quality import QualityController
from .quality_catalogue import AuditController, CatalogueController
from .report import ReportController
from .return_visits import ReturnVisitsController
from .reviews import ReviewController
from .rota import RotaController
from .rules import RulesPagesController
from .sales import SalesController
from .signin import SignInController
from .stock import StockPagesController
from .ticket import TicketController

CONTROLLERS = [
    health,
    ready,
    live,
    SignInController,
    OidcController,
    BoardController,
    ComplaintsController,
    ReturnVisitsController,
    ContractsController,
    CustomersController,
    TicketController,
    IntakeController,
    DealerController,
    DealerWorkController,
    ExpensesController,
    InvoicesController,
    ReviewController,
    ReportController,
    StockPagesController,
    AdminController,
    CalendarAdminController,
    RulesPagesController,
    RotaController,
    EngineersController,
    SalesController,
    CorrectiveController,
    KnowledgeController,
    QualityController,
    CatalogueController,
    AuditController,
]
