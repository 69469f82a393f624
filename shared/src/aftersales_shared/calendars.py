"""Calendars as data: build a WorkCalendar from a CalendarChanged definition; keep a local copy."""

from __future__ import annotations

import json
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .db import calendar_copies, upsert_insert, utcnow
from .events import CalendarChangedV1, Envelope
from .inbox import Inbox
from .workcalendar import BusinessHours, DayEntry, DayKind, WorkCalendar, YearTable

DEFAULT_CALENDAR = "default"
ALWAYS_OPEN = "24x7"


def calendar_from_definition(defn: CalendarChangedV1) -> WorkCalendar:
    """The working-time calendar a CalendarChanged event describes."""
    weekly: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
    for interval in defn.hours:
        weekly[interval.weekday].append((interval.start, interval.end))
    workday = [(i.start, i.end) for i in defn.workday_hours] or None
    hours = (
        BusinessHours(weekly={d: sorted(v) for d, v in weekly.items()}, workday_hours=workday)
        if defn.hours
        else BusinessHours()
    )
    tables = {
        int(year): YearTable.from_entries(int(year), [(d.date, d.kind, d.name) for d in days])
        for year, days in defn.years.items()
    }
    closures = {d.date: DayEntry(d.date, DayKind(d.kind), d.name) for d in defn.closures}
    return WorkCalendar(
        tz=ZoneInfo(defn.timezone),
        hours=hours,
        always_open=defn.always_open,
        year_tables=tables,
        closures=closures,
    )


def builtin_calendar(calendar_id: str, timezone: str = "Asia/Shanghai") -> WorkCalendar:
    """Before any definition arrived: default business hours on the national tables, or 24×7."""
    return WorkCalendar(tz=ZoneInfo(timezone), always_open=calendar_id == ALWAYS_OPEN)


async def save_copy(session: AsyncSession, defn: CalendarChangedV1) -> None:
    """Keep the newest definition of a calendar (an older one arriving late changes nothing)."""
    values = dict(
        calendar_id=defn.calendar_id,
        definition=defn.model_dump_json(),
        changed_at=defn.changed_at,
        received_at=utcnow(),
    )
    stmt = upsert_insert(session, calendar_copies).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["calendar_id"],
        set_={k: stmt.excluded[k] for k in ("definition", "changed_at", "received_at")},
        where=calendar_copies.c.changed_at <= stmt.excluded.changed_at,
    )
    await session.execute(stmt)


async def load_calendar(
    session: AsyncSession, calendar_id: str | None, timezone: str = "Asia/Shanghai"
) -> WorkCalendar:
    """This service's copy of a calendar, or the built-in default until tickets has published
    one."""
    calendar_id = calendar_id or DEFAULT_CALENDAR
    raw = await session.scalar(
        select(calendar_copies.c.definition).where(calendar_copies.c.calendar_id == calendar_id)
    )
    if raw is None:
        return builtin_calendar(calendar_id, timezone)
    return calendar_from_definition(CalendarChangedV1.model_validate(json.loads(raw)))


# what calendar_from_definition and the copy's freshness check use
CALENDAR_READS = (
    "calendar_id",
    "changed_at",
    "timezone",
    "always_open",
    "hours.weekday",
    "hours.start",
    "hours.end",
    "workday_hours.start",
    "workday_hours.end",
    "years.*.date",
    "years.*.kind",
    "years.*.name",
    "closures.date",
    "closures.kind",
    "closures.name",
)


def keep_calendar_copies(inbox: Inbox) -> None:
    """Subscribe a service (contracts, dealers) to CalendarChanged and keep a local copy."""

    @inbox.handles(CalendarChangedV1, reads=CALENDAR_READS)
    async def on_calendar_changed(session: AsyncSession, env: Envelope[CalendarChangedV1]) -> None:
        await save_copy(session, env.data)


def day_entries_to_json(entries: list[DayEntry]) -> list[dict[str, Any]]:
    return [{"date": e.date.isoformat(), "kind": e.kind.value, "name": e.name} for e in entries]


__all__ = [
    "ALWAYS_OPEN",
    "DEFAULT_CALENDAR",
    "builtin_calendar",
    "calendar_from_definition",
    "date",
    "day_entries_to_json",
    "keep_calendar_copies",
    "load_calendar",
    "save_copy",
]
