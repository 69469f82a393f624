"""The tests' clock: named moments, and travel to them (time-machine), never the wall clock.

Two ways in:
- a test asks for the ``clock`` fixture and calls ``clock.at(MOMENT)``: from then on every clock the
  code reads (``datetime.now``, ``time.time`` — also inside the app, its scheduler and relay) starts
  at that moment and ticks on in real time, so deadlines are computed from a moment the test names
  and can be compared with hand-computed expected times;
- ``AFTERSALES_TEST_NOW`` (an ISO time with offset, or a moment's name below) runs the whole suite
  as if at that moment; subprocesses started by tests travel with it
  (``timetravel/sitecustomize.py``).

Monotonic clocks (asyncio's loop, timeouts) are never moved.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

SH = ZoneInfo("Asia/Shanghai")
ENV = "AFTERSALES_TEST_NOW"
# seconds from the real clock; read by timetravel/sitecustomize.py
OFFSET_ENV = "AFTERSALES_TEST_CLOCK_OFFSET"
TRAVEL_DIR = Path(__file__).resolve().parent / "timetravel"


@dataclass(frozen=True)
class Moment:
    name: str
    at: datetime
    why: str


MOMENTS = {
    m.name: m
    for m in (
        Moment(
            "sunday-evening",
            datetime(2026, 11, 29, 20, 57, tzinfo=SH),
            "Sunday 20:57 in Shanghai, still Sunday 12:57 in UTC: three working days end on "
            "Wednesday",
        ),
        Moment(
            "friday-close",
            datetime(2026, 11, 27, 17, 59, tzinfo=SH),
            "a minute before close of business on a Friday",
        ),
        Moment(
            "holiday-eve",
            datetime(2026, 2, 14, 17, 59, tzinfo=SH),
            "Saturday 14 February 2026, a 调休 working day, the last before the Spring Festival "
            "(15-23 February)",
        ),
        Moment(
            "spring-festival-eve",
            datetime(2026, 2, 16, 20, 0, tzinfo=SH),
            "除夕 2026, inside the nine-day holiday",
        ),
        Moment(
            "make-up-saturday",
            datetime(2026, 2, 28, 10, 0, tzinfo=SH),
            "Saturday 28 February 2026, a 调休 working day",
        ),
        Moment(
            "year-end",
            datetime(2026, 12, 31, 23, 59, tzinfo=SH),
            "31 December 23:59: deadlines run into 2027, a year without an official table yet",
        ),
        Moment(
            "november-first",
            datetime(2026, 11, 1, 0, 0, tzinfo=SH),
            "1 November 00:00 (a Sunday): the first day CalendarYearMissing may be announced",
        ),
    )
}


def parse_moment(raw: str) -> datetime:
    """A moment's name or an ISO 8601 time with an offset (a time without one is refused: which
    zone?)."""
    raw = raw.strip()
    if raw in MOMENTS:
        return MOMENTS[raw].at
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"{ENV}={raw!r}: not a moment ({', '.join(MOMENTS)}) nor an ISO time"
        ) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{ENV}={raw!r}: give the offset, e.g. 2026-11-29T20:57:00+08:00")
    return at


def real_now() -> datetime:
    """The wall clock, whatever travel is on (only to compute the offset subprocesses travel by)."""
    hatch = time_machine.escape_hatch
    return datetime.fromtimestamp(hatch.time.time() if hatch.is_travelling() else time.time(), UTC)


class _Travel:
    """Travel to a moment, and let subprocesses started meanwhile travel with it
    (timetravel/sitecustomize.py).

    The moment goes to time-machine in UTC, so the process's TZ is left alone; the tick starts at
    once (time-machine starts it at the first reading, which could be seconds later and would put
    this process behind the subprocesses that travel with it)."""

    def __init__(self, moment: datetime, tick: bool = True) -> None:
        self.moment = moment
        self._saved = {k: os.environ.get(k) for k in (OFFSET_ENV, "PYTHONPATH")}
        offset = (moment - real_now()).total_seconds()
        self._travel = time_machine.travel(moment.astimezone(UTC), tick=tick)
        self._travel.start()
        time.time()
        if tick:
            os.environ[OFFSET_ENV] = repr(offset)
            paths = (self._saved["PYTHONPATH"] or "").split(os.pathsep)
            if str(TRAVEL_DIR) not in paths:
                os.environ["PYTHONPATH"] = os.pathsep.join(
                    p for p in (str(TRAVEL_DIR), *paths) if p
                )

    def stop(self) -> None:
        self._travel.stop()
        for k, v in self._saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Clock:
    """Travel for one test; ``at`` may be called again to jump (e.g. past a deadline) and returns
    the moment."""

    def __init__(self) -> None:
        self._travel: _Travel | None = None

    def at(self, when: str | datetime, *, tick: bool = True) -> datetime:
        moment = parse_moment(when) if isinstance(when, str) else when
        if moment.tzinfo is None:
            raise ValueError("a moment needs a time zone")
        self.stop()
        self._travel = _Travel(moment, tick)
        return moment

    def start(self, default: str | datetime) -> datetime:
        """The suite's moment (AFTERSALES_TEST_NOW) when one is given, else travel to ``default``.

        For tests whose checks hold at any moment (they derive expectations from the moment they
        get)."""
        raw = os.environ.get(ENV)
        return self.at(raw if raw else default)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
            self._travel = None


class SuiteTravel:
    """The whole session at AFTERSALES_TEST_NOW (started before collection, stopped after
    everything)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self._travel: _Travel | None = None

    def start(self) -> None:
        self._travel = _Travel(self.moment)

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
            self._travel = None
