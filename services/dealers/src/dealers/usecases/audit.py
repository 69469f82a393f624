"""The audit trail: who changed what (a dealer user sees its own dealer's entries only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import AuditRow
from .common import page_of


async def list_audit(
    session: AsyncSession,
    scope: str | None,
    *,
    entity: str | None,
    entity_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditRow], int]:
    q = select(AuditRow)
    if scope is not None:
        q = q.where(AuditRow.dealer_id == scope)
    if entity:
        q = q.where(AuditRow.entity == entity)
    if entity_id:
        q = q.where(AuditRow.entity_id == entity_id)
    return await page_of(session, q, [AuditRow.id.desc()], limit, offset)
