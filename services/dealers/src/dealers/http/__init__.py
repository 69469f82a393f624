"""HTTP API of the dealers service: decode, build the command, call one use case, answer.

Controllers are module-level classes, one module per area; `rt` (the Runtime) and `settings`
(DealersSettings) come by Litestar dependency injection (`create_service_app`). Dealer isolation
lives in the use cases (`scope`).
"""

from .audit import AuditController
from .cards import CardsController
from .dealers import DealersController, GradeReviewsController
from .repairs import RepairsController
from .returns import InspectionsController, ShipmentsController, StockController
from .settlement import DeductionNoticesController
from .stocking import StockingController
from .units import UnitConflictsController, UnitsController

CONTROLLERS = [
    DealersController,
    GradeReviewsController,
    UnitsController,
    UnitConflictsController,
    CardsController,
    RepairsController,
    ShipmentsController,
    InspectionsController,
    StockController,
    DeductionNoticesController,
    StockingController,
    AuditController,
]

__all__ = ["CONTROLLERS"]
