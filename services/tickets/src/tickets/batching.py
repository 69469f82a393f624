"""Group commit for intake: concurrent HTTP requests share one transaction, each answered after its commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.groupcommit import GroupCommit

from .intake import Intake, OpenedTicket, open_tickets
from .settings import TicketsSettings


class IntakeBatcher:
    """Intake through the shared group commit: one commit (one WAL flush, one counter-row lock, one
    statement per table) serves every request that arrived meanwhile. A rule refusing one request fails
    only that request; if the shared transaction fails, each request is retried on its own."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: TicketsSettings,
        max_batch: int = 64,
    ) -> None:
        async def write(
            session: AsyncSession, intakes: list[Intake]
        ) -> list[OpenedTicket | BaseException]:
            return list(await open_tickets(session, intakes, settings))

        self._group: GroupCommit[Intake, OpenedTicket] = GroupCommit(
            sessions, write, max_batch=max_batch, name="intake-group-commit"
        )

    async def open(self, intake: Intake) -> OpenedTicket:
        return await self._group.submit(intake)
