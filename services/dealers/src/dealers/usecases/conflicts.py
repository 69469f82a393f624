"""Unit ownership conflicts: a serial one dealer registered itself that another dealer holds."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict

from ..models import UnitConflictRow
from .common import Ctx, audit, not_found, page_of


async def list_conflicts(
    session: AsyncSession, status: str | None, limit: int, offset: int
) -> tuple[list[UnitConflictRow], int]:
    q = select(UnitConflictRow)
    if status:
        q = q.where(UnitConflictRow.status == status)
    return await page_of(
        session, q, [UnitConflictRow.created_at.desc(), UnitConflictRow.id], limit, offset
    )


async def resolve_conflict(
    session: AsyncSession, conflict_id: str, resolution: str, note: str, ctx: Ctx
) -> UnitConflictRow:
    row = await session.get(UnitConflictRow, conflict_id, with_for_update=True)
    if row is None:
        raise not_found("归属冲突", conflict_id)
    if row.status != "open":
        raise Conflict(f"归属冲突{conflict_id}已处理 (already resolved: {row.resolution})")
    row.status, row.resolution, row.note = "resolved", resolution, note
    row.decided_at, row.decided_by = ctx.now, ctx.who
    await audit(
        session,
        ctx,
        row.registered_by_dealer,
        "unit",
        row.serial_no,
        "ownership_conflict_resolved",
        resolution=resolution,
        note=note,
        conflict_id=conflict_id,
    )
    return row
