"""SLA countdowns as the board shows them: working time left on the ticket's calendar, the share of
the target still left (the colour), whether the clock is ticking right now (it stands still at
night, on holidays and while paused), next to the wall-clock deadline. No web code here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from aftersales_shared.workcalendar import WorkCalendar

# the share of the target left below which a clock is shown as watch (amber) and at risk (red)
WATCH_BELOW = 0.5
RISK_BELOW = 0.25
_TICK = timedelta(microseconds=1)


class Band(StrEnum):
    OK = "ok"  # more than half left: green
    WATCH = "watch"  # a quarter to a half: amber
    RISK = "risk"  # under a quarter: red
    BREACHED = "breached"  # past the deadline
    PAUSED = "paused"  # waiting for the customer or parts: grey, stands still
    MET = "met"


@dataclass(frozen=True)
class ClockView:
    """One SLA clock as the tickets API describes it (ClockOut)."""

    kind: str
    state: str  # running | paused | met
    target: timedelta
    deadline: datetime | None = None
    elapsed: timedelta = timedelta(0)  # working time used before the running segment
    breached_at: datetime | None = None
    met_at: datetime | None = None
    provisional: bool = False

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ClockView:
        return cls(
            kind=str(data["kind"]),
            state=str(data["state"]),
            target=timedelta(minutes=float(data["target_minutes"])),
            deadline=_instant(data.get("deadline")),
            elapsed=timedelta(minutes=float(data.get("elapsed_minutes") or 0)),
            breached_at=_instant(data.get("breached_at")),
            met_at=_instant(data.get("met_at")),
            provisional=bool(data.get("provisional")),
        )


@dataclass(frozen=True)
class Countdown:
    kind: str
    band: Band
    left: timedelta  # working time left (zero once breached)
    share_left: float  # of the target, 0..1
    deadline: datetime | None  # wall clock (None while paused)
    ticking: bool  # working time is passing now
    resumes_at: datetime | None  # when a clock standing still outside working hours runs again
    overdue: timedelta = timedelta(0)  # wall-clock time since the deadline passed
    provisional: bool = False  # the deadline lies in a year without an official holiday table


def _instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def in_working_time(calendar: WorkCalendar, now: datetime) -> bool:
    """True when `now` lies inside one of the calendar's working intervals."""
    if calendar.always_open:
        return True
    local = now.astimezone(calendar.tz)
    for day in (local.date() - timedelta(days=1), local.date()):
        if any(start <= local < end for start, end in calendar.working_intervals(day)):
            return True
    return False


def next_working_instant(calendar: WorkCalendar, now: datetime) -> datetime:
    """Where the working time after `now` starts (now itself inside working hours)."""
    return calendar.add_working_time(now, _TICK) - _TICK


def band_of(share_left: float) -> Band:
    if share_left <= 0:
        return Band.BREACHED
    if share_left < RISK_BELOW:
        return Band.RISK
    if share_left < WATCH_BELOW:
        return Band.WATCH
    return Band.OK


def countdown(clock: ClockView, calendar: WorkCalendar, now: datetime) -> Countdown:
    """Where one clock stands at `now`."""
    target_s = clock.target.total_seconds() or 1.0
    if clock.state == "met":
        left = max(clock.target - clock.elapsed, timedelta(0))
        return Countdown(
            clock.kind, Band.MET, left, left.total_seconds() / target_s, None, False, None
        )
    if clock.state == "paused" or clock.deadline is None:
        left = max(clock.target - clock.elapsed, timedelta(0))
        share = left.total_seconds() / target_s
        band = Band.BREACHED if clock.breached_at is not None or share <= 0 else Band.PAUSED
        return Countdown(clock.kind, band, left, share, None, False, None)
    if now >= clock.deadline:
        return Countdown(
            clock.kind,
            Band.BREACHED,
            timedelta(0),
            0.0,
            clock.deadline,
            in_working_time(calendar, now),
            None,
            overdue=now - clock.deadline,
            provisional=clock.provisional,
        )
    left = calendar.working_time_between(now, clock.deadline)
    share = min(left.total_seconds() / target_s, 1.0)
    ticking = in_working_time(calendar, now)
    return Countdown(
        clock.kind,
        band_of(share) if left > timedelta(0) else Band.RISK,
        left,
        share,
        clock.deadline,
        ticking,
        None if ticking else next_working_instant(calendar, now),
        provisional=clock.provisional,
    )


_ORDER = {Band.BREACHED: 0, Band.RISK: 1, Band.WATCH: 2, Band.OK: 3, Band.PAUSED: 4, Band.MET: 5}


def most_pressing(
    clocks: Iterable[ClockView], calendar: WorkCalendar, now: datetime
) -> Countdown | None:
    """The clock a row shows: a breached one first, then the least share of time left; met clocks
    only when nothing else is open."""
    counted = [countdown(c, calendar, now) for c in clocks]
    if not counted:
        return None
    return min(counted, key=lambda c: (_ORDER[c.band], c.share_left, c.left))


def format_working(left: timedelta) -> str:
    """Working time as people say it on the desk: 2小时05分, 45分, 0分."""
    minutes = int(left.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours}小时{rest:02d}分" if hours else f"{rest}分"


def format_overdue(over: timedelta) -> str:
    minutes = int(over.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时"
    return f"{hours}小时{mins:02d}分" if hours else f"{mins}分"
