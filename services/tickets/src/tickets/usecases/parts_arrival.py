"""Parts arrived for a ticket waiting for them (the parts service's PartsArrivedForTicket): its
clocks resume through the ordinary resume, once none of its reservations still waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role

from ..domain import Status
from ..models import TicketRow
from ..settings import TicketsSettings
from .handling import resume

PARTS_SERVICE = Principal(subject="parts:arrival", roles=frozenset({Role.SERVICE_SUPERVISOR}))


@dataclass(frozen=True)
class PartsArrival:
    ticket_no: str
    reservation_id: str
    part_no: str
    part_name: str
    quantity: int
    location_id: str
    still_waiting: int


def arrival_note(a: PartsArrival) -> str:
    return (
        f"备件已到货：{a.part_name}（{a.part_no}）×{a.quantity}，库位 {a.location_id}，预留 "
        f"{a.reservation_id} (parts arrived for reservation {a.reservation_id})"
    )


async def parts_arrived(
    session: AsyncSession, arrival: PartsArrival, now: datetime, settings: TicketsSettings
) -> bool:
    """Resume the ticket if it is waiting for parts and this was the last part it waited for;
    otherwise nothing (a ticket not paused for parts, or an unknown one, is left as it is)."""
    status = await session.scalar(
        select(TicketRow.status).where(TicketRow.ticket_no == arrival.ticket_no)
    )
    if status != Status.WAITING_PARTS.value or arrival.still_waiting > 0:
        return False
    await resume(session, arrival.ticket_no, arrival_note(arrival), PARTS_SERVICE, now, settings)
    return True
