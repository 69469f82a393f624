"""Stopping background tasks so that a stop never hangs."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(*tasks: asyncio.Task | None, retry_every: float = 1.0) -> None:
    """Cancel the tasks and wait until every one has finished.

    A cancellation can be lost: Python 3.11's `asyncio.wait_for` (asyncpg's connect uses it) drops
    it when the call it waits for completes at the same moment, and the task then runs on as if
    nothing happened. A task still running `retry_every` seconds after its cancel is cancelled
    again."""
    pending = {t for t in tasks if t is not None and not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=retry_every)
    for task in tasks:  # consume outcomes: no "exception was never retrieved" at shutdown
        if task is not None and not task.cancelled():
            with contextlib.suppress(BaseException):
                task.exception()
