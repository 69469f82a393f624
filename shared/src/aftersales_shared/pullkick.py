"""Long pull requests that still resume at once after NATS comes back.

An idle pull consumer costs one pull request per `consumer_fetch_seconds` (the server holds it
until a message arrives or it expires). A long expiry keeps idle services cheap, but a server
that restarts forgets the pending requests and nats-py would wait out the expiry before asking
again. `ReconnectKick` ends every pending fetch when the connection is re-established, so the
subscriber loop asks the new server at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import structlog

from .tasks import cancel_and_wait

log = structlog.get_logger(__name__)


class ReconnectKick:
    def __init__(self) -> None:
        self._kicked = asyncio.Event()
        self.kicks = 0

    async def reconnected(self) -> None:
        """nats-py's reconnected callback: end the fetches that were waiting at the old server."""
        kicked, self._kicked = self._kicked, asyncio.Event()
        self.kicks += 1
        kicked.set()

    def wrap(self, subscription: Any) -> None:
        """Make a nats-py PullSubscription's fetch end (as an empty fetch: TimeoutError) on a
        reconnect; idempotent."""
        if getattr(subscription, "_aftersales_kick", None) is self:
            return
        original = subscription.fetch

        async def fetch(batch: int = 1, timeout: float | None = 5, heartbeat: Any = None) -> Any:
            kicked = self._kicked
            inner = asyncio.ensure_future(
                original(batch=batch, timeout=timeout, heartbeat=heartbeat)
            )
            waiter = asyncio.ensure_future(kicked.wait())
            try:
                await asyncio.wait({inner, waiter}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                await cancel_and_wait(inner, waiter)
                raise
            if inner.done():  # messages (or its own error) win over a kick at the same moment
                await cancel_and_wait(waiter)
                return inner.result()
            # a message already on its way lands in the subscription's queue: the next fetch
            # takes it from there before asking the server
            await cancel_and_wait(inner)
            if not inner.cancelled() and inner.exception() is None:
                return inner.result()  # it finished with messages as it was being cancelled
            raise TimeoutError("pull request ended: NATS reconnected")

        subscription.fetch = fetch
        subscription._aftersales_kick = self

    def wrap_all(self, subscribers: Iterable[Any]) -> int:
        """Wrap the pull subscription of every FastStream subscriber that has one."""
        wrapped = 0
        for subscriber in subscribers:
            subscription = getattr(subscriber, "subscription", None)
            if subscription is not None and hasattr(subscription, "fetch"):
                self.wrap(subscription)
                wrapped += 1
        return wrapped
