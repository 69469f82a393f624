"""Calendars as data, owned here: business hours, national year tables, company closures, imports."""

from __future__ import annotations

import csv
import io
import weakref
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.calendars import ALWAYS_OPEN, DEFAULT_CALENDAR
from aftersales_shared.errors import DomainError, NotFound
from aftersales_shared.events import CalendarChangedV1, Envelope
from aftersales_shared.exports import csv_text
from aftersales_shared.outbox import enqueue
from aftersales_shared.workcalendar import (
    BusinessHours,
    CalendarDataError,
    DayEntry,
    DayKind,
    WorkCalendar,
    YearTable,
    national_year_table,
    provisional_year_table,
)

from .models import CalendarAuditRow, CalendarDayRow, CalendarRow, CalendarYearRow

NATIONAL = "national"
DEFAULT_HOURS = [
    {"weekday": d, "start": s, "end": e}
    for d in range(5)
    for s, e in (("09:00", "12:00"), ("13:00", "18:00"))
]


class CalendarImportError(DomainError):
    code = "invalid_calendar_table"


# ------------------------------------------------------------------ parsing and validation
def parse_table(content: bytes, fmt: str, year: int) -> YearTable:
    """CSV (`date,kind,name`) or YAML (list of {date, kind, name}) → a validated YearTable."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalendarImportError("文件不是UTF-8编码 (the file must be UTF-8)") from exc
    rows = _csv_rows(text) if fmt == "csv" else _yaml_rows(text)
    if not rows:
        raise CalendarImportError("文件中没有任何日期 (the file lists no dates)")
    for line, row in rows:
        if (
            not isinstance(row, dict)
            or set(row) - {"date", "kind", "name"}
            or "date" not in row
            or "kind" not in row
        ):
            raise CalendarImportError(
                f"line {line}: expected the fields date, kind, name", line=line
            )
        if str(row["kind"]).strip() not in {k.value for k in DayKind}:
            raise CalendarImportError(
                f"line {line}: unknown kind {row['kind']!r} (holiday or workday)", line=line
            )
    entries = [
        (_date(row["date"], line), str(row["kind"]).strip(), str(row.get("name") or "").strip())
        for line, row in rows
    ]
    try:
        table = YearTable.from_entries(year, entries)
    except CalendarDataError as exc:
        line = rows[exc.line_no - 1][0] if exc.line_no else None
        raise CalendarImportError(
            f"line {line}: {exc.message}" if line else exc.message, line=line
        ) from exc
    return table


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    rows, header = [], None
    for line_no, cells in enumerate(reader, start=1):
        if not cells or not "".join(cells).strip() or cells[0].lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in cells]
        if header is None and cells[0].lower() == "date":
            header = [c.lower() for c in cells]
            continue
        names = header or ["date", "kind", "name"]
        if len(cells) > len(names):
            raise CalendarImportError(
                f"line {line_no}: too many columns ({len(cells)})", line=line_no
            )
        rows.append((line_no, dict(zip(names, cells))))
    return rows


def _yaml_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        nodes = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise CalendarImportError(f"YAML无法解析 (not valid YAML): {exc}") from exc
    if nodes is None:
        return []
    if not isinstance(nodes, yaml.SequenceNode):
        raise CalendarImportError("YAML must be a list of {date, kind, name}")
    data = yaml.safe_load(text)
    return [(node.start_mark.line + 1, item) for node, item in zip(nodes.value, data)]


def _date(value: Any, line: int) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarImportError(
            f"line {line}: {value!r} is not a date (YYYY-MM-DD)", line=line
        ) from None


def validate_hours(hours: list[dict[str, Any]], label: str = "hours") -> list[dict[str, Any]]:
    """Business hours as [{weekday, start, end}]: checked for order and overlap per weekday."""
    weekly: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
    for i, item in enumerate(hours, start=1):
        try:
            weekly[int(item["weekday"])].append(
                (time.fromisoformat(item["start"]), time.fromisoformat(item["end"]))
            )
        except (KeyError, ValueError, TypeError):
            raise CalendarImportError(
                f"{label}[{i}]: needs weekday 0–6 and start/end as HH:MM"
            ) from None
    try:
        BusinessHours(weekly={d: sorted(v) for d, v in weekly.items()})
    except CalendarDataError as exc:
        raise CalendarImportError(f"{label}: {exc.message}") from exc
    return hours


# ------------------------------------------------------------------ loading
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
    """The calendar as this transaction sees it (3 queries); see `calendar_for` for the cached way."""
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
    """A WorkCalendar that remembers each day's working intervals (the deadline arithmetic's inner loop)."""

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


# Calendars cached per database and calendar id, stamped with the calendar version they were read at.
# The version is the newest calendar_audit id: every change of hours, closures or a year table writes
# an audit row in its own transaction, so a replica sees another replica's change at its next lookup.
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

    One cheap version query (none when the caller passes `version`) instead of three loads, unless the
    transaction changes calendars itself: then the calendar is read fresh and not cached."""
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


# ------------------------------------------------------------------ changes
async def import_year(
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


def export_table(entries: list[DayEntry], fmt: str) -> str:
    if fmt == "yaml":
        return yaml.safe_dump(
            [{"date": e.date.isoformat(), "kind": e.kind.value, "name": e.name} for e in entries],
            allow_unicode=True,
            sort_keys=False,
        )
    return csv_text(
        ["date", "kind", "name"],
        ([e.date.isoformat(), e.kind.value, e.name] for e in entries),
        bom=False,
        lineterminator="\n",
    )


async def upsert_calendar(
    session: AsyncSession, calendar_id: str, data: dict[str, Any], actor: str, now: datetime
) -> CalendarRow:
    try:
        ZoneInfo(data["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarImportError(f"unknown time zone {data['timezone']!r}") from None
    hours = validate_hours(data["hours"]) if data["hours"] else DEFAULT_HOURS
    workday = validate_hours(data.get("workday_hours") or [], "workday_hours")
    session.info[CHANGED_KEY] = True
    row = await session.get(CalendarRow, calendar_id)
    if row is None:
        row = CalendarRow(id=calendar_id)
        session.add(row)
    row.name, row.timezone, row.always_open = data["name"], data["timezone"], data["always_open"]
    row.hours, row.workday_hours, row.updated_at, row.updated_by = hours, workday, now, actor
    session.add(
        CalendarAuditRow(
            scope=calendar_id,
            year=None,
            action="update_calendar",
            actor=actor,
            at=now,
            detail={"always_open": data["always_open"], "timezone": data["timezone"]},
        )
    )
    await session.flush()
    return row


async def calendar_ids(session: AsyncSession) -> list[str]:
    ids = set((await session.scalars(select(CalendarRow.id))).all())
    return sorted(ids | {DEFAULT_CALENDAR, ALWAYS_OPEN})


async def publish_definition(
    session: AsyncSession, calendar_id: str, actor: str, now: datetime
) -> None:
    """CalendarChanged carrying hours, closures and every imported national year (for local copies)."""
    row = await session.get(CalendarRow, calendar_id)
    tables = await national_tables(session)
    closures = (
        await session.scalars(select(CalendarDayRow).where(CalendarDayRow.scope == calendar_id))
    ).all()
    hours = row.hours if row else DEFAULT_HOURS
    data = CalendarChangedV1(
        calendar_id=calendar_id,
        timezone=row.timezone if row else "Asia/Shanghai",
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


def year_start_utc(year: int, tz: str = "Asia/Shanghai") -> datetime:
    return datetime(year, 1, 1, tzinfo=ZoneInfo(tz)).astimezone(UTC)
