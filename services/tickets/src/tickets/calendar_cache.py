"""The working-time calendar a clock runs on: read as this transaction sees it, or from a cache per
database stamped with the calendar version (intake, SLA clocks and calendar changes all read
calendars here)."""

from __future__ import annotations

import weakref
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.calendars import ALWAYS_OPEN, DEFAULT_CALENDAR
from aftersales_shared.workcalendar import BusinessHours, DayEntry, DayKind, WorkCalendar, YearTable

from .calendar_tables import NATIONAL
from .models import CalendarAuditRow, CalendarDayRow, CalendarRow, CalendarYearRow


async def national_tables(session: AsyncSession) -> dict[int, YearTable]:
    rows = (
        await session.scalars(select(CalendarDayRow).where(CalendarDayRow.scope == NATIONAL))
    ).all()
    years = (
        await session.scalars(select(CalendarYearRow.year).where(CalendarYearRow.scope == NATIONAL))
    ).all()
    by_year: dict[int, list[tuple[date, str, str]]] = {y: [] for y in years}
    for r in rows:
        by_year.setdefault(r.year, []).append((r.day, r.kind, r.name))
    return {y: YearTable.from_entries(y, entries) for y, entries in by_year.items()}


async def load_calendar_fresh(session: AsyncSession, calendar_id: str | None) -> WorkCalendar:
    """The calendar as this transaction sees it (3 queries); see `calendar_for` for the cached
    way."""
    calendar_id = calendar_id or DEFAULT_CALENDAR
    row = await session.get(CalendarRow, calendar_id)
    tables = await national_tables(session)
    closures = {
        r.day: DayEntry(r.day, DayKind(r.kind), r.name)
        for r in (
            await session.scalars(select(CalendarDayRow).where(CalendarDayRow.scope == calendar_id))
        ).all()
    }
    if row is None:
        return MemoCalendar(
            always_open=calendar_id == ALWAYS_OPEN, year_tables=tables, closures=closures
        )
    return MemoCalendar(
        tz=ZoneInfo(row.timezone),
        hours=_hours(row.hours, row.workday_hours),
        always_open=row.always_open,
        year_tables=tables,
        closures=closures,
    )


class MemoCalendar(WorkCalendar):
    """A WorkCalendar that remembers each day's working intervals (the deadline arithmetic's inner
    loop)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "_days", {})

    def _utc_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        days: dict[date, list[tuple[datetime, datetime]]] = self._days  # type: ignore[attr-defined]
        found = days.get(d)
        if found is None:
            if len(days) > 20_000:
                days.clear()
            found = days[d] = super()._utc_intervals(d)
        return found


# Calendars cached per database and calendar id, stamped with the calendar version they were read
# at. The version is the newest calendar_audit id: every change of hours, closures or a year table
# writes an audit row in its own transaction, so a replica sees another replica's change at its next
# lookup.
_CACHE: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, WorkCalendar]]] = (
    weakref.WeakKeyDictionary()
)
CHANGED_KEY = "tickets_calendars_changed"


async def calendar_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(CalendarAuditRow.id), 0))) or 0)


async def calendar_for(
    session: AsyncSession, calendar_id: str | None, version: int | None = None
) -> WorkCalendar:
    """The working-time calendar a clock runs on (unknown ids fall back to the default hours).

    One cheap version query (none when the caller passes `version`) instead of three loads, unless
    the transaction changes calendars itself: then the calendar is read fresh and not cached."""
    calendar_id = calendar_id or DEFAULT_CALENDAR
    engine = getattr(session.bind, "sync_engine", None)
    if engine is None or session.info.get(CHANGED_KEY):
        return await load_calendar_fresh(session, calendar_id)
    if version is None:
        version = await calendar_version(session)
    cached = _CACHE.setdefault(engine, {})
    hit = cached.get(calendar_id)
    if hit is not None and hit[0] == version:
        return hit[1]
    calendar = await load_calendar_fresh(session, calendar_id)
    if not session.info.get(CHANGED_KEY):
        cached[calendar_id] = (version, calendar)
    return calendar


def _hours(hours: list[dict], workday: list[dict]) -> BusinessHours:
    weekly: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
    for h in hours:
        weekly[h["weekday"]].append((time.fromisoformat(h["start"]), time.fromisoformat(h["end"])))
    wd = (
        sorted((time.fromisoformat(h["start"]), time.fromisoformat(h["end"])) for h in workday)
        or None
    )
    return BusinessHours(weekly={d: sorted(v) for d, v in weekly.items()}, workday_hours=wd)
