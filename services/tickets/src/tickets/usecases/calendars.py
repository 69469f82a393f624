"""Calendar changes as use cases (HTTP and CLI share them): hours, year tables, exports, the
year-missing check.

Every change writes an audit row (which is also the calendar version the caches compare), recomputes
the open clocks it moves and publishes CalendarChanged, all in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.calendars import ALWAYS_OPEN, DEFAULT_CALENDAR
from aftersales_shared.errors import NotFound
from aftersales_shared.events import CalendarChangedV1, CalendarYearMissingV1, Envelope
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import schedule
from aftersales_shared.workcalendar import (
    DEFAULT_TZ,
    DayEntry,
    DayKind,
    YearTable,
    national_year_table,
    provisional_year_table,
)

from ..calendar_cache import CHANGED_KEY, national_tables
from ..calendar_tables import (
    DEFAULT_HOURS,
    NATIONAL,
    CalendarImportError,
    export_table,
    parse_table,
    validate_hours,
)
from ..models import CalendarAuditRow, CalendarDayRow, CalendarRow, CalendarYearRow
from ..settings import TicketsSettings
from .sla import recompute_clocks

YEAR_CHECK = "calendar_year_check"


@dataclass(frozen=True)
class CalendarHours:
    """A calendar's definition as an admin sets it (hours as [{weekday, start, end}])."""

    name: str
    timezone: str
    always_open: bool
    hours: list[dict[str, Any]]
    workday_hours: list[dict[str, Any]]


@dataclass(frozen=True)
class CalendarView:
    """A calendar as listed: stored, or the built-in default/24x7 ones nobody has changed yet."""

    id: str
    name: str
    timezone: str
    always_open: bool
    hours: list[dict[str, Any]]
    workday_hours: list[dict[str, Any]]


# ------------------------------------------------------------------ reading
async def calendar_ids(session: AsyncSession) -> list[str]:
    ids = set((await session.scalars(select(CalendarRow.id))).all())
    return sorted(ids | {DEFAULT_CALENDAR, ALWAYS_OPEN})


async def list_calendars(session: AsyncSession) -> list[CalendarView]:
    out = []
    for cid in await calendar_ids(session):
        row = await session.get(CalendarRow, cid)
        out.append(
            CalendarView(
                id=cid,
                name=row.name if row else cid,
                timezone=row.timezone if row else DEFAULT_TZ.key,
                always_open=row.always_open if row else cid == ALWAYS_OPEN,
                hours=row.hours if row else ([] if cid == ALWAYS_OPEN else DEFAULT_HOURS),
                workday_hours=row.workday_hours if row else [],
            )
        )
    return out


async def effective_year(
    session: AsyncSession, scope: str, year: int
) -> tuple[list[DayEntry], str]:
    """The table in force for a year and where it comes from: imported | package | provisional."""
    if (await session.get(CalendarYearRow, (scope, year))) is not None:
        rows = (
            await session.scalars(
                select(CalendarDayRow)
                .where(CalendarDayRow.scope == scope, CalendarDayRow.year == year)
                .order_by(CalendarDayRow.day)
            )
        ).all()
        return [DayEntry(r.day, DayKind(r.kind), r.name) for r in rows], "imported"
    if scope != NATIONAL:
        return [], "none"
    table = national_year_table(year)
    if table is not None:
        return sorted(table.entries.values(), key=lambda e: e.date), "package"
    return sorted(
        provisional_year_table(year).entries.values(), key=lambda e: e.date
    ), "provisional"


async def export_year(session: AsyncSession, scope: str, year: int, fmt: str) -> tuple[str, str]:
    """A year's table in force as CSV or YAML text, and where it comes from."""
    entries, source = await effective_year(session, scope, year)
    return export_table(entries, fmt), source


async def audit(session: AsyncSession, limit: int, offset: int) -> list[CalendarAuditRow]:
    query = (
        select(CalendarAuditRow).order_by(CalendarAuditRow.id.desc()).limit(limit).offset(offset)
    )
    return list((await session.scalars(query)).all())


# ------------------------------------------------------------------ changes
async def import_year(
    session: AsyncSession,
    scope: str,
    year: int,
    content: bytes,
    fmt: str,
    actor: str,
    now: datetime,
    settings: TicketsSettings,
) -> tuple[int, int, int]:
    """An uploaded table (CSV or YAML) checked, then applied as `apply_year` does."""
    table = parse_table(content, fmt, year)
    return await apply_year(session, scope, year, table, actor, now, settings)


async def apply_year(
    session: AsyncSession,
    scope: str,
    year: int,
    table: YearTable,
    actor: str,
    now: datetime,
    settings: TicketsSettings,
) -> tuple[int, int, int]:
    """Import a table, recompute affected open clocks, publish CalendarChanged; all in one
    transaction."""
    entries = await _replace_year(session, scope, year, table, actor, now)
    ids = None if scope == NATIONAL else [scope]
    since = year_start_utc(year, settings.business_timezone)
    count, changed = await recompute_clocks(
        session, ids, since, f"{scope} {year} calendar imported", now, settings
    )
    for calendar_id in await calendar_ids(session) if ids is None else ids:
        await publish_definition(session, calendar_id, actor, now)
    return entries, count, changed


async def update_hours(
    session: AsyncSession,
    calendar_id: str,
    data: CalendarHours,
    actor: str,
    now: datetime,
    settings: TicketsSettings,
) -> CalendarRow:
    row = await _upsert_calendar(session, calendar_id, data, actor, now)
    await recompute_clocks(
        session, [calendar_id], now, f"calendar {calendar_id} hours changed", now, settings
    )
    await publish_definition(session, calendar_id, actor, now)
    return row


async def _replace_year(
    session: AsyncSession, scope: str, year: int, table: YearTable, actor: str, now: datetime
) -> int:
    """Replace one (scope, year) table atomically, with an audit record."""
    if (
        scope != NATIONAL
        and await session.get(CalendarRow, scope) is None
        and scope not in (DEFAULT_CALENDAR, ALWAYS_OPEN)
    ):
        raise NotFound(f"日历{scope}不存在 (calendar not found)")
    session.info[CHANGED_KEY] = True
    await session.execute(
        delete(CalendarDayRow).where(CalendarDayRow.scope == scope, CalendarDayRow.year == year)
    )
    session.add_all(
        CalendarDayRow(scope=scope, year=year, day=e.date, kind=e.kind.value, name=e.name)
        for e in sorted(table.entries.values(), key=lambda e: e.date)
    )
    existing = await session.get(CalendarYearRow, (scope, year))
    if existing is None:
        session.add(
            CalendarYearRow(
                scope=scope,
                year=year,
                imported_at=now,
                imported_by=actor,
                entries=len(table.entries),
            )
        )
    else:
        existing.imported_at, existing.imported_by, existing.entries = (
            now,
            actor,
            len(table.entries),
        )
    session.add(
        CalendarAuditRow(
            scope=scope,
            year=year,
            action="import_year",
            actor=actor,
            at=now,
            detail={"entries": len(table.entries)},
        )
    )
    await session.flush()
    return len(table.entries)


async def _upsert_calendar(
    session: AsyncSession, calendar_id: str, data: CalendarHours, actor: str, now: datetime
) -> CalendarRow:
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarImportError(f"unknown time zone {data.timezone!r}") from None
    hours = validate_hours(data.hours) if data.hours else DEFAULT_HOURS
    workday = validate_hours(data.workday_hours or [], "workday_hours")
    session.info[CHANGED_KEY] = True
    row = await session.get(CalendarRow, calendar_id)
    if row is None:
        row = CalendarRow(id=calendar_id)
        session.add(row)
    row.name, row.timezone, row.always_open = data.name, data.timezone, data.always_open
    row.hours, row.workday_hours, row.updated_at, row.updated_by = hours, workday, now, actor
    session.add(
        CalendarAuditRow(
            scope=calendar_id,
            year=None,
            action="update_calendar",
            actor=actor,
            at=now,
            detail={"always_open": data.always_open, "timezone": data.timezone},
        )
    )
    await session.flush()
    return row


async def publish_definition(
    session: AsyncSession, calendar_id: str, actor: str, now: datetime
) -> None:
    """CalendarChanged carrying hours, closures and every imported national year (for local
    copies)."""
    row = await session.get(CalendarRow, calendar_id)
    tables = await national_tables(session)
    closures = (
        await session.scalars(select(CalendarDayRow).where(CalendarDayRow.scope == calendar_id))
    ).all()
    hours = row.hours if row else DEFAULT_HOURS
    data = CalendarChangedV1(
        calendar_id=calendar_id,
        timezone=row.timezone if row else DEFAULT_TZ.key,
        always_open=row.always_open if row else calendar_id == ALWAYS_OPEN,
        hours=hours,
        workday_hours=row.workday_hours if row else [],
        years={
            y: [{"date": e.date, "kind": e.kind.value, "name": e.name} for e in t.entries.values()]
            for y, t in tables.items()
        },
        closures=[{"date": c.day, "kind": c.kind, "name": c.name} for c in closures],
        changed_by=actor,
        changed_at=now,
    )
    await enqueue(session, Envelope(data=data, subject=calendar_id))


def year_start_utc(year: int, business_timezone: str) -> datetime:
    return datetime(year, 1, 1, tzinfo=ZoneInfo(business_timezone)).astimezone(UTC)


# ------------------------------------------------------------------ next year's table
def next_check_at(now: datetime, business_timezone: str) -> datetime:
    """09:00 business time on the next day."""
    tz = ZoneInfo(business_timezone)
    local = now.astimezone(tz)
    return datetime.combine(
        local.date() + timedelta(days=1), datetime.min.time().replace(hour=9), tzinfo=tz
    )


async def year_missing(session: AsyncSession, now: datetime, business_timezone: str) -> int | None:
    """The next year, if it is November or December and that year has no official table yet."""
    local = now.astimezone(ZoneInfo(business_timezone))
    if local.month < 11:
        return None
    nxt = local.year + 1
    if await session.get(CalendarYearRow, (NATIONAL, nxt)) or national_year_table(nxt) is not None:
        return None
    return nxt


async def check_next_year(session: AsyncSession, now: datetime, business_timezone: str) -> None:
    """Daily from 1 November: tell admins (CalendarYearMissing) until next year's table is imported;
    then arm tomorrow's check."""
    year = await year_missing(session, now, business_timezone)
    if year is not None:
        await enqueue(
            session,
            Envelope(
                subject=str(year),
                data=CalendarYearMissingV1(calendar_id=NATIONAL, year=year, noticed_at=now),
            ),
        )
    at = next_check_at(now, business_timezone)
    await schedule(session, YEAR_CHECK, at.date().isoformat(), at)


async def ensure_year_check(session: AsyncSession, now: datetime, business_timezone: str) -> None:
    """At start: arm today's check (idempotent: one job per day, fired once across replicas)."""
    local = now.astimezone(ZoneInfo(business_timezone))
    await schedule(session, YEAR_CHECK, local.date().isoformat(), now)
