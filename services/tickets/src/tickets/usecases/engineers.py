"""The engineer roster supervisors keep (issue #21): the engineers dispatch may choose with how
many open tickets each holds now, so the supervisor sees who is free (least loaded first, searchable
by name, id or region); adding, editing, deactivating (never deleting: tickets name them) and leave,
every change in the audit trail. TICKETS_ENGINEERS (the demo's in local development) is only the
seed, written once into an empty table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.db import is_postgresql, upsert_insert
from aftersales_shared.errors import Conflict, DomainError, NotFound

from .. import roster
from ..domain import Status
from ..models import EngineerRow, QualityAuditRow, TicketRow
from ..settings import Engineer
from . import quality_audit

ENTITY = "engineer"  # in the quality audit trail
SEED_LOCK = "tickets:engineer-seed"


@dataclass(frozen=True)
class EngineerLoad:
    id: str
    name: str
    region: str
    phone: str
    open_tickets: int
    skills: list[str]
    active: bool
    on_leave: bool
    leave_until: date | None
    available: bool
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class Filters:
    q: str = ""
    region: str | None = None
    active: bool | None = None
    available: bool | None = None
    include_inactive: bool = False  # False: only those the picker offers (active, not on leave)
    limit: int = 200
    offset: int = 0


def _available(today: date) -> Any:
    back = and_(EngineerRow.leave_until.is_not(None), EngineerRow.leave_until < today)
    return and_(EngineerRow.active, or_(not_(EngineerRow.on_leave), back))


async def engineers(
    session: AsyncSession, f: Filters, now: datetime, tz: ZoneInfo
) -> list[EngineerLoad]:
    """The roster's engineers that match, the least loaded first (then by name)."""
    today = roster.local_day(now, tz)
    load = (
        select(TicketRow.assignee_id.label("id"), func.count().label("n"))
        .where(TicketRow.assignee_kind == "engineer")
        .where(TicketRow.status != Status.COMPLETED.value)
        .group_by(TicketRow.assignee_id)
        .subquery()
    )
    count = func.coalesce(load.c.n, 0)
    query = select(EngineerRow, count).outerjoin(load, load.c.id == EngineerRow.id)
    if not f.include_inactive:
        query = query.where(_available(today))
    if f.active is not None:
        query = query.where(EngineerRow.active.is_(f.active))
    if f.available is not None:
        query = query.where(_available(today) if f.available else not_(_available(today)))
    if f.region:
        query = query.where(EngineerRow.region == f.region)
    if q := f.q.strip().casefold():
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(
            or_(
                func.lower(EngineerRow.id).like(like),
                func.lower(EngineerRow.name).like(like),
                func.lower(EngineerRow.region).like(like),
            )
        )
    query = query.order_by(count, EngineerRow.name, EngineerRow.id).limit(f.limit).offset(f.offset)
    return [_load(row, int(n), now, tz) for row, n in (await session.execute(query)).all()]


def _load(row: EngineerRow, open_tickets: int, now: datetime, tz: ZoneInfo) -> EngineerLoad:
    return EngineerLoad(
        id=row.id,
        name=row.name,
        region=row.region,
        phone=row.phone,
        open_tickets=open_tickets,
        skills=list(row.skills or []),
        active=row.active,
        on_leave=roster.on_leave_at(row.on_leave, row.leave_until, now, tz),
        leave_until=row.leave_until if row.on_leave else None,
        available=roster.available_at(row.active, row.on_leave, row.leave_until, now, tz),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def one(session: AsyncSession, sub: str, now: datetime, tz: ZoneInfo) -> EngineerLoad:
    row = await _row(session, sub)
    n = await session.scalar(
        select(func.count())
        .where(TicketRow.assignee_kind == "engineer", TicketRow.assignee_id == sub)
        .where(TicketRow.status != Status.COMPLETED.value)
    )
    return _load(row, int(n or 0), now, tz)


async def _row(session: AsyncSession, sub: str, lock: bool = False) -> EngineerRow:
    row = await session.get(EngineerRow, sub, with_for_update=lock or None)
    if row is None:
        raise NotFound(f"名单中没有工程师 {sub} (no engineer {sub} on the roster)")
    return row


async def seed(session: AsyncSession, configured: Sequence[Engineer], now: datetime) -> int:
    """The configured roster into an empty table, once: replicas starting together take turns
    (an advisory lock on PostgreSQL; SQLite has one writer) and the later sees the table full."""
    if not configured:
        return 0
    if is_postgresql(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": SEED_LOCK})
    if await session.scalar(select(EngineerRow.id).limit(1)) is not None:
        return 0
    written = 0
    for e in configured:
        values = _values(roster.EngineerData(e.id, e.name, e.region, e.phone), "seed", now)
        if await _insert(session, values):
            quality_audit.record(session, ENTITY, e.id, "seeded", "seed", now, name=e.name)
            written += 1
    return written


def _values(data: roster.EngineerData, actor: str, now: datetime) -> dict[str, Any]:
    return {
        "id": data.id,
        "name": data.name,
        "region": data.region,
        "phone": data.phone,
        "skills": list(data.skills),
        "active": True,
        "on_leave": False,
        "leave_until": None,
        "created_at": now,
        "updated_at": now,
        "updated_by": actor,
    }


async def _insert(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when the subject is already on the roster (two requests at once: one wins)."""
    stmt = upsert_insert(session, EngineerRow.__table__).values(**values)
    done = await session.execute(stmt.on_conflict_do_nothing().returning(EngineerRow.id))
    return done.first() is not None


async def create(
    session: AsyncSession, data: roster.EngineerData, user: Principal, now: datetime
) -> None:
    if not await _insert(session, _values(data, user.subject, now)):
        raise Conflict(f"账号 {data.id} 已在工程师名单中 (this sub is already on the roster)")
    quality_audit.record(
        session, ENTITY, data.id, "created", user.subject, now, **_fields(vars(data))
    )


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in roster.FIELDS_ZH}


async def update(
    session: AsyncSession, sub: str, wanted: dict[str, Any], user: Principal, now: datetime
) -> bool:
    """Name, region, phone, skills, active (deactivate: kept, never deleted); False: nothing
    changed (nothing audited)."""
    wanted = roster.check_patch(wanted)
    row = await _row(session, sub, lock=True)
    changed = roster.changes({k: getattr(row, k) for k in wanted}, wanted)
    if not changed:
        return False
    for key, (_, value) in changed.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by = now, user.subject
    action = "updated"
    if "active" in changed:
        action = "reactivated" if row.active else "deactivated"
    quality_audit.record(session, ENTITY, sub, action, user.subject, now, changes=changed)
    return True


async def set_leave(
    session: AsyncSession,
    sub: str,
    on_leave: bool,
    until: date | None,
    user: Principal,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """On leave (until a day, inclusive, or further notice) or back; what they hold stays."""
    row = await _row(session, sub, lock=True)
    until = roster.check_leave(on_leave, until, now, tz)
    changed = roster.changes(
        {"on_leave": row.on_leave, "leave_until": row.leave_until},
        {"on_leave": on_leave, "leave_until": until},
    )
    if not changed:
        return
    row.on_leave, row.leave_until = on_leave, until
    row.updated_at, row.updated_by = now, user.subject
    action = "leave" if on_leave else "back"
    quality_audit.record(session, ENTITY, sub, action, user.subject, now, changes=changed)


async def for_dispatch(
    session: AsyncSession, sub: str, now: datetime, tz: ZoneInfo, roster_only: bool
) -> EngineerRow | None:
    """The engineer a ticket may be dispatched to: on the roster, active, not on leave; None
    for someone not on the roster, when dispatch may go off it (`roster_only` false)."""
    row = await session.get(EngineerRow, sub)
    if row is None:
        if not roster_only:
            return None
        raise DomainError(
            f"工程师 {sub} 不在工程师名单中，请从名单中选择或先在“工程师名单”中添加 "
            "(not on the engineer roster)"
        )
    if not row.active:
        raise DomainError(f"工程师{row.name}（{sub}）已停用，不能派单 (deactivated)")
    if roster.on_leave_at(row.on_leave, row.leave_until, now, tz):
        until = f"至 {row.leave_until.isoformat()}" if row.leave_until else ""
        raise Conflict(f"工程师{row.name}（{sub}）休假中{until}，请改派他人 (on leave)")
    return row


async def history(
    session: AsyncSession, sub: str, limit: int, offset: int
) -> tuple[list[QualityAuditRow], int]:
    await _row(session, sub)
    return await quality_audit.list_audit(session, ENTITY, sub, limit, offset)
