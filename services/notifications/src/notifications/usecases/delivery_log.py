"""The delivery log: what was sent to whom, filtered, and one delivery with its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import NotFound

from ..domain import Status
from ..models import DeliveryRow


@dataclass(frozen=True)
class DeliveryFilter:
    status: str | None = None
    channel: str | None = None
    recipient: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    template: str | None = None
    rule_id: str | None = None
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
        (DeliveryRow.rule_id, f.rule_id),
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


@dataclass(frozen=True)
class Unreachable:
    """Someone the rules name who could not be reached on a channel: how often, why (the latest
    reason)."""

    recipient_key: str
    recipient_name: str | None
    channel: str
    deliveries: int
    first_at: datetime
    last_at: datetime
    reason: str


async def unreachable(
    session: AsyncSession, limit: int, offset: int, since: datetime | None = None
) -> tuple[list[Unreachable], int]:
    """The people without a (valid) address or registration that skipped deliveries name, most
    recent first."""
    skipped = DeliveryRow.status == Status.SKIPPED.value
    if since is not None:
        skipped = skipped & (DeliveryRow.created_at >= since)
    person = (DeliveryRow.recipient_key, DeliveryRow.channel)
    # one row per (person, channel): its newest skip with the count and the first and last time
    ranked = (
        select(
            *person,
            DeliveryRow.recipient_name,
            DeliveryRow.last_error,
            func.count().over(partition_by=person).label("n"),
            func.min(DeliveryRow.created_at).over(partition_by=person).label("first_at"),
            func.max(DeliveryRow.created_at).over(partition_by=person).label("last_at"),
            func.row_number()
            .over(partition_by=person, order_by=DeliveryRow.created_at.desc())
            .label("rank"),
        )
        .where(skipped)
        .subquery()
    )
    newest = select(ranked).where(ranked.c.rank == 1).subquery()
    total = await session.scalar(select(func.count()).select_from(newest)) or 0
    page = await session.execute(
        select(newest)
        .order_by(newest.c.last_at.desc(), newest.c.recipient_key, newest.c.channel)
        .limit(limit)
        .offset(offset)
    )
    found = [
        Unreachable(
            r.recipient_key,
            r.recipient_name,
            r.channel,
            r.n,
            r.first_at,
            r.last_at,
            r.last_error or "",
        )
        for r in page
    ]
    return found, total
