"""Working-time calendars and the public-holiday years imported into them."""

from __future__ import annotations

from pydantic import Field

from aftersales_shared.schemas import In, Out


class IntervalIn(In):
    weekday: int = Field(ge=0, le=6)
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")


class CalendarIn(In):
    name: str = Field(min_length=1, max_length=100)
    timezone: str = "Asia/Shanghai"
    always_open: bool = False
    hours: list[IntervalIn] = Field(default_factory=list, max_length=50)
    workday_hours: list[IntervalIn] = Field(default_factory=list, max_length=10)


class CalendarOut(Out):
    id: str
    name: str
    timezone: str
    always_open: bool
    hours: list[dict]
    workday_hours: list[dict]


class YearImportOut(Out):
    scope: str
    year: int
    entries: int
    clocks_recomputed: int
    deadlines_changed: int
