"""Group commit for intake: concurrent HTTP requests share one transaction, each answered after its commit."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.errors import DomainError

from .intake import Intake, OpenedTicket, open_tickets
from .settings import TicketsSettings

log = structlog.get_logger(__name__)


class IntakeBatcher:
    """Requests queue up while a batch is being written; the next batch takes all of them (up to max_batch).

    At low load a batch is one request and nothing waits; under load one commit (one WAL flush, one
    counter-row lock, one statement per table) serves many tickets. A rule refusing one request fails
    only that request; if the shared transaction itself fails, each request is retried on its own, so
    one bad row cannot take its neighbours down with it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: TicketsSettings, max_batch: int = 64) -> None:
        self._sessions = sessions
        self._settings = settings
        self._max = max_batch
        self._pending: list[tuple[Intake, asyncio.Future[OpenedTicket]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.opened = 0

    async def open(self, intake: Intake) -> OpenedTicket:
        future: asyncio.Future[OpenedTicket] = asyncio.get_running_loop().create_future()
        self._pending.append((intake, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name="intake-group-commit")
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self._max], self._pending[self._max :]
                batch = [(i, f) for i, f in batch if not f.done()]  # a caller that went away is not written
                if batch:
                    await self._write(batch)
        finally:
            self._task = None

    async def _write(self, batch: list[tuple[Intake, asyncio.Future[OpenedTicket]]]) -> None:
        try:
            async with self._sessions.begin() as session:
                results = await open_tickets(session, [i for i, _ in batch], self._settings)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            log.warning("intake.batch_failed", size=len(batch), error=f"{type(exc).__name__}: {exc}")
            for intake, future in batch:
                await self._write([(intake, future)])
            return
        self.batches += 1
        self.opened += sum(not isinstance(r, DomainError) for r in results)
        for (_, future), result in zip(batch, results):
            _settle(future, result)


def _settle(future: asyncio.Future[OpenedTicket], result: OpenedTicket | BaseException) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
