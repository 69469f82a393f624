"""The delivery log: what was sent to whom, filtered, and one delivery with its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import NotFound

from ..models import DeliveryRow


@dataclass(frozen=True)
class DeliveryFilter:
    status: str | None = None
    channel: str | None = None
    recipient: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    template: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_deliveries(
    session: AsyncSession, f: DeliveryFilter, limit: int, offset: int
) -> tuple[list[DeliveryRow], int]:
    query = select(DeliveryRow)
    for column, value in (
        (DeliveryRow.status, f.status),
        (DeliveryRow.channel, f.channel),
        (DeliveryRow.recipient_key, f.recipient),
        (DeliveryRow.source_event_id, f.event_id),
        (DeliveryRow.template, f.template),
        (DeliveryRow.subject, f.subject),
    ):
        if value:
            query = query.where(column == value)
    if f.event_type:
        query = query.where(DeliveryRow.source_event_type.like(f"%{f.event_type}%"))
    if f.since:
        query = query.where(DeliveryRow.created_at >= f.since)
    if f.until:
        query = query.where(DeliveryRow.created_at < f.until)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(DeliveryRow.created_at.desc(), DeliveryRow.id).limit(limit).offset(offset)
    )
    return list(rows), total


async def get_delivery(session: AsyncSession, delivery_id: str) -> DeliveryRow:
    row = await session.get(DeliveryRow, delivery_id)
    if row is None:
        raise NotFound(f"投递记录{delivery_id}不存在 (no such delivery)")
    return row
