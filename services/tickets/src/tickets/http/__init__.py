"""HTTP API of the tickets service: decode, call one use case, encode. One module per area."""

from .calendars import CalendarController
from .entitlements import EntitlementController
from .queue import QueueController
from .tickets import TicketController

CONTROLLERS = [EntitlementController, TicketController, QueueController, CalendarController]

__all__ = ["CONTROLLERS"]
