"""HTTP API of the tickets service: decode, call one use case, encode. One module per area."""

from .calendars import CalendarController
from .corrective import CorrectiveActionController
from .entitlements import EntitlementController
from .faults import CatalogueController, FaultController, QualityAuditController
from .knowledge import KnowledgeController, SuggestionController
from .queue import QueueController
from .tickets import TicketController

CONTROLLERS = [
    EntitlementController,
    TicketController,
    SuggestionController,
    QueueController,
    CalendarController,
    CatalogueController,
    FaultController,
    CorrectiveActionController,
    QualityAuditController,
    KnowledgeController,
]

__all__ = ["CONTROLLERS"]
