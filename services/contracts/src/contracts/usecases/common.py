"""Helpers every use case shares: a page of a query, the changes of an update, today in business
time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def page(
    session: AsyncSession, query: Select[Any], order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    total = (
        await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    rows = (await session.scalars(query.order_by(*order_by).limit(limit).offset(offset))).all()
    return list(rows), total


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: {"from": before.get(k), "to": v} for k, v in after.items() if before.get(k) != v}


def today(now: datetime, tz: ZoneInfo) -> date:
    """The calendar day it is in the business time zone (settings.business_timezone)."""
    return now.astimezone(tz).date()
