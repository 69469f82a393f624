"""Calendar changes as use cases (HTTP and CLI share them): import, update hours, year-missing check."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.events import CalendarYearMissingV1, Envelope
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import Job, Scheduler, schedule
from aftersales_shared.workcalendar import YearTable, national_year_table

from . import calendars as cal
from .models import CalendarAuditRow, CalendarYearRow
from .settings import TicketsSettings
from .workflow import recompute_clocks

YEAR_CHECK = "calendar_year_check"
SH = ZoneInfo("Asia/Shanghai")


async def apply_year(
    session: AsyncSession,
    scope: str,
    year: int,
    table: YearTable,
    actor: str,
    now: datetime,
    settings: TicketsSettings,
) -> tuple[int, int, int]:
    """Import a table, recompute affected open clocks, publish CalendarChanged; all in one transaction."""
    entries = await cal.import_year(session, scope, year, table, actor, now)
    ids = None if scope == cal.NATIONAL else [scope]
    count, changed = await recompute_clocks(
        session, ids, cal.year_start_utc(year), f"{scope} {year} calendar imported", now, settings
    )
    for calendar_id in await cal.calendar_ids(session) if ids is None else ids:
        await cal.publish_definition(session, calendar_id, actor, now)
    return entries, count, changed


async def update_hours(
    session: AsyncSession,
    calendar_id: str,
    data: dict,
    actor: str,
    now: datetime,
    settings: TicketsSettings,
):  # type: ignore[no-untyped-def]
    row = await cal.upsert_calendar(session, calendar_id, data, actor, now)
    await recompute_clocks(
        session, [calendar_id], now, f"calendar {calendar_id} hours changed", now, settings
    )
    await cal.publish_definition(session, calendar_id, actor, now)
    return row


async def audit(session: AsyncSession, limit: int, offset: int) -> list[CalendarAuditRow]:
    query = (
        select(CalendarAuditRow).order_by(CalendarAuditRow.id.desc()).limit(limit).offset(offset)
    )
    return list((await session.scalars(query)).all())


def next_check_at(now: datetime) -> datetime:
    """09:00 Shanghai on the next day."""
    local = now.astimezone(SH)
    return datetime.combine(
        local.date() + timedelta(days=1), datetime.min.time().replace(hour=9), tzinfo=SH
    )


async def year_missing(session: AsyncSession, now: datetime) -> int | None:
    """The next year, if it is November or December and that year has no official table yet."""
    local = now.astimezone(SH)
    if local.month < 11:
        return None
    nxt = local.year + 1
    if (
        await session.get(CalendarYearRow, (cal.NATIONAL, nxt))
        or national_year_table(nxt) is not None
    ):
        return None
    return nxt


def register_year_check(scheduler: Scheduler, clock) -> None:  # type: ignore[no-untyped-def]
    """Daily from 1 November: tell admins (CalendarYearMissing) until next year's table is imported."""

    @scheduler.handles(YEAR_CHECK)
    async def check(session: AsyncSession, job: Job) -> None:
        now = clock()
        year = await year_missing(session, now)
        if year is not None:
            await enqueue(
                session,
                Envelope(
                    subject=str(year),
                    data=CalendarYearMissingV1(calendar_id=cal.NATIONAL, year=year, noticed_at=now),
                ),
            )
        at = next_check_at(now)
        await schedule(session, YEAR_CHECK, at.date().isoformat(), at)


async def ensure_year_check(session: AsyncSession, now: datetime) -> None:
    """At start: arm today's check (idempotent: one job per day, fired once across replicas)."""
    local = now.astimezone(SH)
    await schedule(session, YEAR_CHECK, local.date().isoformat(), now)
