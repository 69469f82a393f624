"""Group commit: concurrent callers share one transaction, each answered after that transaction
commits.

Callers queue up while a batch is being written; the next batch takes all of them (up to
`max_batch`), with at most `concurrency` transactions in flight (1: strictly one after the other).
At low load a batch is one item and nothing waits; under load one commit (one WAL flush, one
statement per table) serves many. The write function returns one result per item — an exception
instance fails only that item (a business rule said no) while the rest commit. If the shared
transaction itself fails, each item is written again on its own, so one bad item cannot take its
neighbours down with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")

WriteBatch = Callable[[AsyncSession, list[T]], Awaitable[Sequence["R | BaseException"]]]


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        write: WriteBatch[T, R],
        *,
        max_batch: int = 64,
        concurrency: int = 1,
        name: str = "group-commit",
    ) -> None:
        self._sessions = sessions
        self._write_batch = write
        self._max = max_batch
        self._name = name
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._writing: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.items = 0

    async def submit(self, item: T) -> R:
        """Write `item` with whatever else is waiting; returns its result once the batch
        committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name=self._name)
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                await (
                    self._slots.acquire()
                )  # up to `concurrency` transactions at once; what queues meanwhile
                batch, self._pending = (
                    self._pending[: self._max],
                    self._pending[self._max :],
                )  # joins this batch
                batch = [
                    (i, f) for i, f in batch if not f.done()
                ]  # a caller that went away is not written
                if not batch:
                    self._slots.release()
                    continue
                task = asyncio.create_task(self._write_then_release(batch), name=self._name)
                self._writing.add(task)
                task.add_done_callback(self._writing.discard)
        finally:
            self._task = None

    async def _write_then_release(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            await self._write(batch)
        finally:
            self._slots.release()

    async def _write(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            async with self._sessions.begin() as session:
                results = list(await self._write_batch(session, [i for i, _ in batch]))
            if len(results) != len(batch):
                raise RuntimeError(f"{self._name}: {len(results)} results for {len(batch)} items")
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            log.warning(
                "group_commit.batch_failed",
                name=self._name,
                size=len(batch),
                error=f"{type(exc).__name__}: {exc}",
            )
            for pair in batch:
                await self._write([pair])
            return
        self.batches += 1
        self.items += len(batch)
        for (_, future), result in zip(batch, results):
            _settle(future, result)


def _settle(future: asyncio.Future[R], result: R | BaseException) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
