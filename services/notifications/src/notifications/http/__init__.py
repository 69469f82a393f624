"""HTTP API of the notifications service: recipients and preferences, the delivery log, the rules in
force."""

from .deliveries import DeliveryController, UnreachableController
from .recipients import RecipientController
from .rota import RotaController
from .rules import RulesController

CONTROLLERS = [
    RecipientController,
    DeliveryController,
    UnreachableController,
    RotaController,
    RulesController,
]

__all__ = ["CONTROLLERS"]
