"""Public pages opened by a link instead of a login (the survey page /s/<token>, the complaint
confirmation /c/<token>): single-use tokens of which only the hash is kept, the security headers
such a page always carries, and a per-client-IP limit on unknown tokens (guessing).

The guess limit is kept in this process's memory. Why memory and not the database: a token has 256
random bits, so the limit is defence in depth, not the protection itself. Counting in memory costs
no database write per wrong guess (a guesser cannot turn the limiter into write load on the
database), and with R replicas a guesser gets at most R × the budget — still nothing against 2^256.
The price: counts reset on restart and are not shared between replicas. Memory is bounded: at most
`max_clients` addresses are tracked (oldest dropped).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable

TOKEN_BYTES = 32  # 256 random bits
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # the shape secrets.token_urlsafe(32) produces

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never leak it to another site
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Robots-Tag": "noindex, nofollow",
}


def new_token() -> tuple[str, str]:
    """A fresh link token and the SHA-256 that is all the database keeps of it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed_token(token: str) -> bool:
    return bool(TOKEN_RE.match(token))


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
