"""The lease: a delivery claimed long ago and never finished (the process died mid-send) is due
again."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.scheduler import schedule

from ..domain import Status
from ..models import DeliveryRow
from .delivery import JOB_KIND


async def stale_claims(session: AsyncSession, now: datetime, lease: float) -> list[str]:
    """Deliveries claimed long ago and never finished (the process died mid-send): due again."""
    cutoff = now - timedelta(seconds=lease)
    rows = (
        await session.execute(
            select(DeliveryRow.id, DeliveryRow.attempts)
            .where(DeliveryRow.status == Status.SENDING.value, DeliveryRow.claimed_at < cutoff)
            .limit(500)
        )
    ).all()
    for delivery_id, _attempts in rows:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id, DeliveryRow.status == Status.SENDING.value)
            .values(
                status=Status.RETRYING.value, due_at=now, last_error="lease expired while sending"
            )
        )
        await schedule(
            session,
            JOB_KIND,
            f"{delivery_id}:lease:{now.timestamp():.0f}",
            now,
            {"delivery_id": delivery_id},
        )
    return [r[0] for r in rows]
