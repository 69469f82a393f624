"""The quality audit trail: who changed the fault catalogue or a corrective action, when, what
(append-only, like calendar_audit for calendars and the progress log for tickets)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import QualityAuditRow


def record(
    session: AsyncSession,
    entity: str,
    entity_id: str,
    action: str,
    actor: str,
    at: datetime,
    **detail: Any,
) -> None:
    session.add(
        QualityAuditRow(
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            actor=actor,
            at=at,
            detail=json.loads(json.dumps(detail, default=str, ensure_ascii=False)),
        )
    )


async def list_audit(
    session: AsyncSession,
    entity: str | None,
    entity_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[QualityAuditRow], int]:
    query = select(QualityAuditRow)
    if entity:
        query = query.where(QualityAuditRow.entity == entity)
    if entity_id:
        query = query.where(QualityAuditRow.entity_id == entity_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(QualityAuditRow.id.desc()).limit(limit).offset(offset)
    )
    return list(rows.all()), total
