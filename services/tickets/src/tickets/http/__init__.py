"""HTTP API of the tickets service: decode, call one use case, encode. One module per area; the
complaint confirmation page (/c/<token>) is the one public page."""

from .calendars import CalendarController
from .complaint_page import PUBLIC_PREFIX, ComplaintPageController
from .complaints import ComplaintController
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
    ComplaintController,
    ComplaintPageController,
]

__all__ = ["CONTROLLERS", "PUBLIC_PREFIX"]
