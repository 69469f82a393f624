"""The per-client-IP limit on unknown survey tokens lives in aftersales_shared.publiclinks (the
complaint confirmation page of tickets uses it too)."""

from aftersales_shared.publiclinks import GuessLimiter

__all__ = ["GuessLimiter"]
