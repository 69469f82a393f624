"""Working-time calendar for SLA clocks: business hours, Chinese holidays and 调休 make-up days."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_TZ", "MAX_IDLE_DAYS", "BusinessHours", "CalendarDataError", "DayEntry", "DayKind",
    "Interval", "WorkCalendar", "YearTable", "national_year_table", "provisional_year_table",
]  # fmt: skip

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
MAX_IDLE_DAYS = 3660
Interval = tuple[time, time]


class CalendarDataError(ValueError):
    """Invalid calendar data; `line_no` is the 1-based entry index (None when not line-based)."""

    def __init__(self, line_no: int | None, message: str) -> None:
        self.line_no = line_no
        self.message = message
        super().__init__(message if line_no is None else f"line {line_no}: {message}")


class DayKind(StrEnum):
    """Kind of an exceptional calendar day."""

    HOLIDAY = "holiday"
    WORKDAY = "workday"


@dataclass(frozen=True, slots=True)
class DayEntry:
    """One exceptional day: a holiday on a weekday or a make-up workday (调休)."""

    date: date
    kind: DayKind
    name: str = ""


def _coerce_entry(raw: Any) -> DayEntry:
    """Turn a DayEntry, (date, kind[, name]) tuple or mapping into a DayEntry, raising
    ValueError."""
    d: Any
    kind: Any
    name: Any
    if isinstance(raw, DayEntry):
        d, kind, name = raw.date, raw.kind, raw.name
    elif isinstance(raw, Mapping):
        d, kind, name = raw.get("date"), raw.get("kind"), raw.get("name", "")
    elif isinstance(raw, tuple | list) and len(raw) in (2, 3):
        d, kind, name = raw[0], raw[1], raw[2] if len(raw) == 3 else ""
    else:
        raise ValueError(f"unrecognised entry {raw!r}")
    if isinstance(d, str):
        d = date.fromisoformat(d)
    if isinstance(d, datetime) or not isinstance(d, date):
        raise ValueError(f"invalid date {d!r}")  # noqa: TRY004 - reported as CalendarDataError
    try:
        kind = DayKind(kind)
    except ValueError:
        raise ValueError(f"invalid kind {kind!r} (expected 'holiday' or 'workday')") from None
    name = "" if name is None else name
    if not isinstance(name, str):
        raise ValueError(f"invalid name {name!r}")  # noqa: TRY004 - reported as CalendarDataError
    return DayEntry(d, kind, name)


@dataclass(frozen=True)
class YearTable:
    """The exceptional days of one calendar year."""

    year: int
    entries: Mapping[date, DayEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))

    @classmethod
    def from_entries(cls, year: int, entries: Iterable[Any]) -> YearTable:
        """Validate entries (raising CalendarDataError on the first bad one) and build a table."""
        built: dict[date, DayEntry] = {}
        for line_no, raw in enumerate(entries, start=1):
            try:
                entry = _coerce_entry(raw)
            except ValueError as exc:
                raise CalendarDataError(line_no, str(exc)) from None
            if entry.date.year != year:
                raise CalendarDataError(line_no, f"{entry.date} is outside year {year}")
            if (prev := built.get(entry.date)) is not None:
                if prev.kind != entry.kind:
                    msg = f"{entry.date} is both holiday and workday"
                else:
                    msg = f"duplicate date {entry.date}"
                raise CalendarDataError(line_no, msg)
            built[entry.date] = entry
        return cls(year, built)


def _iter_year(year: int) -> Iterable[date]:
    """Yield every date of a year."""
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


@functools.lru_cache(maxsize=64)
def national_year_table(year: int) -> YearTable | None:
    """Official table from chinesecalendar, or None when the package does not know the year."""
    import chinese_calendar

    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        entries: list[DayEntry] = []
        for d in _iter_year(year):
            working = chinese_calendar.is_workday(d)
            _, name = chinese_calendar.get_holiday_detail(d)
            weekend = d.weekday() >= 5
            if not working and (not weekend or name):
                entries.append(DayEntry(d, DayKind.HOLIDAY, name or "休息日"))
            elif working and weekend:
                entries.append(DayEntry(d, DayKind.WORKDAY, f"调休 ({name})" if name else "调休"))
    except NotImplementedError:
        return None
    return YearTable.from_entries(year, entries)


@functools.lru_cache(maxsize=64)
def provisional_year_table(year: int) -> YearTable:
    """Rule-based holidays from `holidays.China` (no make-up workdays: they are not predictable)."""
    import holidays

    days = holidays.China(years=year)
    return YearTable.from_entries(
        year, (DayEntry(d, DayKind.HOLIDAY, name) for d, name in sorted(days.items()))
    )


def _default_weekly() -> dict[int, tuple[Interval, ...]]:
    """Mon–Fri 09:00–12:00 and 13:00–18:00."""
    day = ((time(9), time(12)), (time(13), time(18)))
    return {wd: day for wd in range(5)}


def _check_intervals(label: str, intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Validate one day's intervals: start < end, sorted, non-overlapping."""
    out: list[Interval] = []
    for iv in intervals:
        ok = isinstance(iv, tuple | list) and len(iv) == 2
        if not ok or not all(isinstance(t, time) and t.tzinfo is None for t in iv):
            raise CalendarDataError(None, f"{label}: interval {iv!r} must be two naive times")
        start, end = iv
        if start >= end:
            raise CalendarDataError(
                None, f"{label}: interval start {start} is not before end {end}"
            )
        if out and start < out[-1][1]:
            raise CalendarDataError(
                None,
                f"{label}: interval {start}-{end} overlaps or precedes {out[-1][0]}-{out[-1][1]}",
            )
        out.append((start, end))
    return tuple(out)


@dataclass(frozen=True)
class BusinessHours:
    """Opening intervals per weekday (0=Mon..6=Sun); `workday_hours` apply on 调休 days."""

    weekly: Mapping[int, Iterable[Interval]] = field(default_factory=_default_weekly)
    workday_hours: Iterable[Interval] | None = None

    def __post_init__(self) -> None:
        bad = [wd for wd in self.weekly if wd not in range(7)]
        if bad:
            raise CalendarDataError(None, f"weekday keys must be 0..6, got {bad}")
        weekly = {wd: _check_intervals(f"weekday {wd}", self.weekly.get(wd, ())) for wd in range(7)}
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        workday = weekly[0] if self.workday_hours is None else self.workday_hours
        object.__setattr__(self, "workday_hours", _check_intervals("workday_hours", workday))

    def for_weekday(self, weekday: int) -> tuple[Interval, ...]:
        """Intervals of an ordinary day with this weekday."""
        return self.weekly[weekday]  # type: ignore[return-value]


@dataclass(frozen=True)
class WorkCalendar:
    """Working-time calendar; national tables per year, company closures layered on top."""

    tz: tzinfo = DEFAULT_TZ
    hours: BusinessHours = field(default_factory=BusinessHours)
    always_open: bool = False
    year_tables: Mapping[int, YearTable] = field(default_factory=dict)
    closures: Mapping[date, DayEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for year, table in self.year_tables.items():
            if table.year != year:
                raise CalendarDataError(None, f"year_tables[{year}] holds table for {table.year}")
        for d, entry in self.closures.items():
            if entry.date != d:
                raise CalendarDataError(None, f"closure keyed {d} describes {entry.date}")
        object.__setattr__(self, "year_tables", MappingProxyType(dict(self.year_tables)))
        object.__setattr__(self, "closures", MappingProxyType(dict(self.closures)))

    def _table(self, year: int) -> YearTable:
        """Supplied table, else national, else provisional rule-based table."""
        table = self.year_tables.get(year) or national_year_table(year)
        return table if table is not None else provisional_year_table(year)

    def _day_hours(self, d: date) -> tuple[Interval, ...]:
        """Opening intervals of a date after applying closures and the year table."""
        entry = self.closures.get(d) or self._table(d.year).entries.get(d)
        if entry is None:
            return self.hours.for_weekday(d.weekday())
        return self.hours.workday_hours if entry.kind is DayKind.WORKDAY else ()  # type: ignore[return-value]

    def is_working_day(self, d: date) -> bool:
        """True when the date has any working time."""
        return self.always_open or bool(self._day_hours(d))

    def working_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """Working intervals of a date as aware datetimes in the calendar's time zone."""
        if self.always_open:
            return [(self._at(d, time()), self._at(d + timedelta(days=1), time()))]
        out = []
        for start, end in self._day_hours(d):
            end_dt = (
                self._at(d + timedelta(days=1), time()) if end == time.max else self._at(d, end)
            )
            out.append((self._at(d, start), end_dt))
        return out

    def _at(self, d: date, t: time) -> datetime:
        """Local wall time on a date in the calendar's zone."""
        return datetime.combine(d, t, tzinfo=self.tz)

    def _utc_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """working_intervals converted to UTC (safe for arithmetic)."""
        return [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in self.working_intervals(d)]

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """Instant (UTC) when `duration` of working time has elapsed after `start`."""
        cursor = _require_aware(start, "start").astimezone(UTC)
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        if self.always_open or not duration:
            return cursor + duration
        remaining = duration
        day = start.astimezone(self.tz).date()
        idle = 0
        while idle <= MAX_IDLE_DAYS:
            found = False
            for s, e in self._utc_intervals(day):
                if e <= cursor:
                    continue
                found = True
                s = max(s, cursor)
                if remaining <= e - s:
                    return s + remaining
                remaining -= e - s
                cursor = e
            idle = 0 if found else idle + 1
            day += timedelta(days=1)
        raise ValueError(f"no working time found within {MAX_IDLE_DAYS} days after {cursor}")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Close of business (UTC) of the `days`-th working day after the day of `start`."""
        start = _require_aware(start, "start")
        if days < 1:
            raise ValueError("days must be at least 1")
        if self.always_open:
            return start.astimezone(UTC) + timedelta(days=days)
        day, counted = start.astimezone(self.tz).date(), 0
        for _ in range(MAX_IDLE_DAYS + days):
            day += timedelta(days=1)
            intervals = self._utc_intervals(day)
            if intervals:
                counted += 1
                if counted == days:
                    return intervals[-1][1]
        raise ValueError(f"no {days} working days found after {start}")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in [a, b); zero when b <= a."""
        a = _require_aware(a, "a").astimezone(UTC)
        b = _require_aware(b, "b").astimezone(UTC)
        if b <= a:
            return timedelta(0)
        if self.always_open:
            return b - a
        total = timedelta(0)
        day, last = a.astimezone(self.tz).date(), b.astimezone(self.tz).date()
        while day <= last:
            for s, e in self._utc_intervals(day):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def provisional_years(self, a: datetime, b: datetime) -> set[int]:
        """Calendar years (in tz) between a and b that rely on the rule-based provisional table."""
        if self.always_open:
            return set()
        ya = _require_aware(a, "a").astimezone(self.tz).year
        yb = _require_aware(b, "b").astimezone(self.tz).year
        return {
            y
            for y in range(min(ya, yb), max(ya, yb) + 1)
            if y not in self.year_tables and national_year_table(y) is None
        }

    def is_provisional(self, a: datetime, b: datetime) -> bool:
        """True if any year between a and b has no supplied or national table."""
        return bool(self.provisional_years(a, b))


def _require_aware(dt: datetime, name: str) -> datetime:
    """Reject naive datetimes."""
    if not isinstance(dt, datetime) or dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {dt!r}")
    return dt
