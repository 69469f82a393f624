"""HTTP API of the contracts service: controllers at module level, one module per area; each handler
decodes, calls one use case and answers. The runtime (`rt`) and the settings come by dependency
injection."""

from .audit import AuditController
from .contracts import ContractController
from .customers import CustomerController
from .leads import LeadController
from .orders import OrderController, TrainingFollowUpController
from .quotes import QuoteController
from .requirements import RequirementController

CONTROLLERS = [
    CustomerController,
    LeadController,
    RequirementController,
    QuoteController,
    ContractController,
    OrderController,
    TrainingFollowUpController,
    AuditController,
]

__all__ = ["CONTROLLERS"]
