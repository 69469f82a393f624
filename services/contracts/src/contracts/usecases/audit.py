"""The audit trail: who did what to which record, appended by every use case and listed for
auditors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal

from ..models import AuditRow
from .common import page


async def audit(
    session: AsyncSession,
    actor: Principal | None,
    entity: str,
    key: str,
    action: str,
    now: datetime,
    **detail: Any,
) -> None:
    """Append who did what to which record (the system itself acts as 'system')."""
    session.add(
        AuditRow(
            entity=entity,
            entity_key=key,
            action=action,
            at=now,
            actor=actor.subject if actor else "system",
            actor_roles=sorted(r.value for r in actor.roles) if actor else [],
            detail=to_jsonable_python(detail),
        )
    )


async def list_audit(
    session: AsyncSession,
    *,
    entity: str | None,
    key: str | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditRow], int]:
    q = select(AuditRow)
    for column, value in (
        (AuditRow.entity, entity),
        (AuditRow.entity_key, key),
        (AuditRow.actor, actor),
    ):
        if value:
            q = q.where(column == value)
    if since:
        q = q.where(AuditRow.at >= since)
    if until:
        q = q.where(AuditRow.at < until)
    return await page(session, q, [AuditRow.id], limit, offset)
