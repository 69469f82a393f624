"""The console's pages."""

from .board import BoardController
from .dealer import DealerController
from .intake import IntakeController
from .oidc import OidcController
from .ops import health, ready
from .reviews import ReviewController
from .signin import SignInController
from .ticket import TicketController

CONTROLLERS = [
    health,
    ready,
    SignInController,
    OidcController,
    BoardController,
    TicketController,
    IntakeController,
    DealerController,
    ReviewController,
]
