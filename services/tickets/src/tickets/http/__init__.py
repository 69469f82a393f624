"""HTTP API of the tickets service: decode, call one use case, encode. One module per area."""

from .calendars import CalendarController
from .entitlements import EntitlementController
from .knowledge import KnowledgeController, SuggestionController
from .queue import QueueController
from .tickets import TicketController

CONTROLLERS = [
    EntitlementController,
    TicketController,
    SuggestionController,
    QueueController,
    CalendarController,
    KnowledgeController,
]

__all__ = ["CONTROLLERS"]
