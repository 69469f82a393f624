"""Per-client-IP limit on unknown survey tokens (guessing), kept in this process's memory.

Why memory and not the database: a token has 256 random bits, so the limit is defence in depth, not
the protection itself. Counting in memory costs no database write per wrong guess (a guesser cannot
turn the limiter into write load on the survey database), and with R replicas a guesser gets at most
R × the budget — still nothing against 2^256. The price: counts reset on restart and are not shared
between replicas. Memory is bounded: at most `max_clients` addresses are tracked (oldest dropped).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class GuessLimiter:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str) -> deque[float]:
        stamps = self._failures.get(client)
        if stamps is None:
            return deque()
        horizon = self._clock() - self.window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        if not stamps:
            del self._failures[client]
        return stamps

    def blocked(self, client: str) -> bool:
        """True while the client used up its wrong guesses in the window."""
        return len(self._recent(client)) >= self.limit

    def retry_after(self, client: str) -> int:
        stamps = self._recent(client)
        if not stamps:
            return 0
        return max(1, int(stamps[0] + self.window - self._clock()) + 1)

    def failed(self, client: str) -> None:
        """Count one unknown token from this client."""
        stamps = self._recent(client)
        stamps.append(self._clock())
        self._failures[client] = stamps
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)
