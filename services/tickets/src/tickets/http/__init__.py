"""HTTP API of the tickets service: decode, call one use case, encode. One module per area."""

from .calendars import CalendarController
from .corrective import CorrectiveActionController
from .entitlements import EntitlementController
from .faults import CatalogueController, FaultController, QualityAuditController
from .queue import QueueController
from .tickets import TicketController

CONTROLLERS = [
    EntitlementController,
    TicketController,
    QueueController,
    CalendarController,
    CatalogueController,
    FaultController,
    CorrectiveActionController,
    QualityAuditController,
]

__all__ = ["CONTROLLERS"]
