"""A stop never hangs on a task that lost its cancellation."""

from __future__ import annotations

import asyncio

from aftersales_shared.tasks import cancel_and_wait


async def test_a_task_that_swallows_its_first_cancel_is_still_stopped():
    swallowed = []

    async def stubborn() -> (
        None
    ):  # what a cancel lost inside asyncio.wait_for looks like from outside
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed.append(True)

    async def fails() -> None:
        raise RuntimeError("already failed")

    task, failed = asyncio.create_task(stubborn()), asyncio.create_task(fails())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, failed, None, retry_every=0.05), timeout=10)
    assert swallowed == [True] and task.cancelled() and failed.done()
