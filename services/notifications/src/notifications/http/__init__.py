"""HTTP API of the notifications service: recipients and preferences, the delivery log, the rules in
force."""

from .deliveries import DeliveryController
from .recipients import RecipientController
from .rules import RulesController

CONTROLLERS = [RecipientController, DeliveryController, RulesController]

__all__ = ["CONTROLLERS"]
