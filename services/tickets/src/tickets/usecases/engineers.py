"""The engineers dispatch may choose (the configured roster) with how many open tickets each
holds now, so the supervisor sees who is free; a search by name, id or region."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain import Status
from ..models import TicketRow
from ..settings import Engineer


@dataclass(frozen=True)
class EngineerLoad:
    id: str
    name: str
    region: str
    phone: str
    open_tickets: int


def matches(engineer: Engineer, q: str) -> bool:
    q = q.strip().casefold()
    return not q or any(q in v.casefold() for v in (engineer.id, engineer.name, engineer.region))


async def engineers(
    session: AsyncSession, roster: Sequence[Engineer], q: str = ""
) -> list[EngineerLoad]:
    """The roster's engineers that match, the least loaded first (then by name)."""
    chosen = [e for e in roster if matches(e, q)]
    if not chosen:
        return []
    counts = dict(
        (
            await session.execute(
                select(TicketRow.assignee_id, func.count())
                .where(TicketRow.assignee_id.in_([e.id for e in chosen]))
                .where(TicketRow.status != Status.COMPLETED.value)
                .group_by(TicketRow.assignee_id)
            )
        ).all()
    )
    loads = [
        EngineerLoad(e.id, e.name, e.region, e.phone, int(counts.get(e.id, 0))) for e in chosen
    ]
    return sorted(loads, key=lambda x: (x.open_tickets, x.name, x.id))
