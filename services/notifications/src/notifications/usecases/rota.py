"""The duty rota: shifts that put a registered person on duty for a group, and who hears a
`duty:<group>` alert at a moment — the whole group in working time (the duty calendar), else the
people whose shift covers the moment (else, nobody being on duty, the whole group)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.calendars import load_calendar
from aftersales_shared.errors import DomainError, NotFound

from ..domain import in_working_time
from ..models import DutyShiftRow, RecipientChangeRow, RecipientRow
from ..settings import NotificationsSettings

LONGEST_SHIFT = timedelta(days=31)


@dataclass(frozen=True)
class NewShift:
    group: str
    recipient_id: str
    starts_at: datetime
    ends_at: datetime
    note: str | None = None


async def add_shift(
    session: AsyncSession, shift: NewShift, who: Principal, now: datetime
) -> DutyShiftRow:
    if shift.ends_at <= shift.starts_at:
        raise DomainError("值班结束时间须晚于开始时间 (a shift must end after it starts)")
    if shift.ends_at - shift.starts_at > LONGEST_SHIFT:
        raise DomainError("一个班次最长31天 (a shift lasts at most 31 days)")
    person = await session.get(RecipientRow, shift.recipient_id)
    if person is None or not person.active:
        raise DomainError(
            f"收件人{shift.recipient_id}未登记或已停用 (not a registered, active recipient)"
        )
    if shift.group not in (person.groups or []):
        raise DomainError(
            f"收件人{shift.recipient_id}不在分组{shift.group}中 "
            "(put on duty only someone of that group: add the group to the recipient first)"
        )
    row = DutyShiftRow(
        group_name=shift.group,
        recipient_id=shift.recipient_id,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        note=shift.note,
        created_by=who.subject,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    _audit(session, row, "shift_added", who, now)
    return row


async def list_shifts(
    session: AsyncSession,
    group: str | None,
    recipient_id: str | None,
    at: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[DutyShiftRow], int]:
    query = select(DutyShiftRow)
    if group:
        query = query.where(DutyShiftRow.group_name == group)
    if recipient_id:
        query = query.where(DutyShiftRow.recipient_id == recipient_id)
    if at is not None:
        query = query.where(DutyShiftRow.starts_at <= at, DutyShiftRow.ends_at > at)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(DutyShiftRow.starts_at, DutyShiftRow.id).limit(limit).offset(offset)
    )
    return list(rows), total


async def remove_shift(session: AsyncSession, shift_id: int, who: Principal, now: datetime) -> None:
    row = await session.get(DutyShiftRow, shift_id)
    if row is None:
        raise NotFound(f"值班班次{shift_id}不存在 (no such shift)")
    _audit(session, row, "shift_removed", who, now)
    await session.delete(row)


def _audit(
    session: AsyncSession, row: DutyShiftRow, action: str, who: Principal, now: datetime
) -> None:
    """A shift put on or taken off the rota goes into its person's history (recipient_changes),
    with the shift as it was: who was on duty when is answerable after the shift is gone."""
    session.add(
        RecipientChangeRow(
            recipient_id=row.recipient_id,
            action=action,
            changes={
                "shift_id": row.id,
                "group": row.group_name,
                "starts_at": row.starts_at.isoformat(),
                "ends_at": row.ends_at.isoformat(),
                "note": row.note,
            },
            changed_at=now,
            changed_by=who.subject,
        )
    )


async def working_time(
    session: AsyncSession, settings: NotificationsSettings, at: datetime
) -> bool:
    calendar = await load_calendar(session, settings.duty_calendar_id, settings.business_timezone)
    return in_working_time(calendar, at)


async def on_shift(session: AsyncSession, group: str, at: datetime) -> list[RecipientRow]:
    """The active people whose shift for the group covers `at`."""
    ids = select(DutyShiftRow.recipient_id).where(
        DutyShiftRow.group_name == group, DutyShiftRow.starts_at <= at, DutyShiftRow.ends_at > at
    )
    rows = await session.scalars(
        select(RecipientRow)
        .where(RecipientRow.id.in_(ids), RecipientRow.active.is_(True))
        .order_by(RecipientRow.id)
    )
    return list(rows)


async def on_duty(
    session: AsyncSession, settings: NotificationsSettings, group: str, at: datetime
) -> tuple[bool, list[RecipientRow]]:
    """(working time?, who hears a duty:<group> alert at `at`)."""
    if await working_time(session, settings, at):
        return True, await _members(session, group)
    return False, await on_shift(session, group, at) or await _members(session, group)


async def _members(session: AsyncSession, group: str) -> list[RecipientRow]:
    rows = await session.scalars(
        select(RecipientRow).where(RecipientRow.active.is_(True)).order_by(RecipientRow.id)
    )
    return [r for r in rows if group in (r.groups or [])]
