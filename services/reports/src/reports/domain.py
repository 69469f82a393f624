"""Rules of the monthly report: the month in the business time zone, what counts as a failure,
when a batch is abnormal, percentiles, Pareto, ageing. Pure: no web, broker or database."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aftersales_shared.errors import DomainError
from aftersales_shared.workcalendar import WorkCalendar

# request types that are a unit failing (the numerator of failure rates)
FAILURE_TYPES = ("quality_issue", "return_exchange")
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
VITAL_FEW_SHARE = 0.8  # Pareto: the causes that make up the first 80 %


@dataclass(frozen=True)
class Policy:
    timezone: str = "Asia/Shanghai"
    calendar_id: str = "default"
    abnormal_sigmas: float = 3.0
    abnormal_min_failures: int = 2
    ageing_buckets_days: tuple[int, ...] = (3, 7, 14, 30)

    def abnormal_rule(self) -> str:
        return (
            f"批次故障率高于该型号整体故障率 p 的控制上限 p + {self.abnormal_sigmas:g}·√(p(1−p)/n) "
            f"（n 为批次在用台数）且故障至少 {self.abnormal_min_failures} 次即判为异常 "
            f"(a batch is abnormal when its rate exceeds its model's rate p by more than "
            f"{self.abnormal_sigmas:g} standard errors, p-chart upper limit, with at least "
            f"{self.abnormal_min_failures} failures)"
        )


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        if not re.match(MONTH_PATTERN, text or ""):
            raise DomainError(
                f"月份格式应为 YYYY-MM，例如 2026-11 (month must be YYYY-MM, got {text!r})",
                code="bad_month",
            )
        year, month = int(text[:4]), int(text[5:])
        if not 1900 <= year <= 2200:
            raise DomainError(
                f"年份须在 1900 与 2200 之间 (year must be 1900–2200, got {year})",
                code="bad_month",
            )
        return cls(year, month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def shifted(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """[start, end) of the month in the business time zone, as UTC instants."""
        zone = ZoneInfo(tz)
        start = datetime(self.year, self.month, 1, tzinfo=zone)
        nxt = self.shifted(1)
        end = datetime(nxt.year, nxt.month, 1, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def per_thousand(failures: int, units: int) -> float | None:
    """Failures per 1,000 units in service (None without units: no rate, not zero)."""
    return round(1000 * failures / units, 2) if units else None


def upper_limit(model_rate: float, units: int, sigmas: float) -> float:
    """p-chart upper control limit of a batch of `units` on a model whose failure rate is p."""
    if units <= 0:
        return math.inf
    p = min(max(model_rate, 0.0), 1.0)
    return p + sigmas * math.sqrt(p * (1 - p) / units)


def is_abnormal(failures: int, units: int, model_rate: float, policy: Policy) -> bool:
    if units <= 0 or failures < policy.abnormal_min_failures:
        return False
    return failures / units > upper_limit(model_rate, units, policy.abnormal_sigmas)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation between closest ranks; None when
    empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value, 1)


@dataclass(frozen=True)
class ParetoRow:
    key: str
    count: int
    share: float
    cumulative: float
    vital_few: bool


def pareto(keys: Iterable[str]) -> list[ParetoRow]:
    """Counts in descending order with cumulative share; the vital few are the rows the first 80 %
    needs (the row that crosses 80 % included)."""
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    rows, running = [], 0
    for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        before = running / total
        running += count
        rows.append(
            ParetoRow(
                key=key,
                count=count,
                share=round(count / total, 4),
                cumulative=round(running / total, 4),
                vital_few=before < VITAL_FEW_SHARE,
            )
        )
    return rows


def ageing_bucket(age: timedelta, buckets: Sequence[int]) -> str:
    """The bucket label of an open ticket's age: '≤3d', '≤7d', … '>30d'."""
    for days in buckets:
        if age <= timedelta(days=days):
            return f"≤{days}d"
    return f">{buckets[-1]}d" if buckets else "all"


def ageing_labels(buckets: Sequence[int]) -> list[str]:
    return [f"≤{d}d" for d in buckets] + ([f">{buckets[-1]}d"] if buckets else ["all"])


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change (0.25 = +25 %); None when either side is missing or the base is zero."""
    if current is None or previous is None or previous == 0:
        return None
    return round((current - previous) / previous, 4)


def mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


# ------------------------------------------------------------------ publication schedule
PUBLISH_SEARCH_DAYS = 31  # a month always has a working day; past that the calendar is wrong


def first_working_day(month: Month, calendar: WorkCalendar) -> date:
    """The first day of `month` with working time on the calendar: national holidays, company
    closures and 调休 make-up days count (1 January 2026 is a holiday, Sunday 4 January is
    worked)."""
    day = month.first_day()
    for _ in range(PUBLISH_SEARCH_DAYS):
        if calendar.is_working_day(day):
            return day
        day += timedelta(days=1)
    raise DomainError(
        f"日历中 {month} 没有工作日，请检查工作日历 (the calendar has no working day in {month})",
        code="no_working_day",
    )


def publication_due(report_month: Month, calendar: WorkCalendar, at: time, tz: str) -> datetime:
    """When a month's report is generated and sent: the first working day of the following month at
    the configured local time in the business time zone, as a UTC instant."""
    day = first_working_day(report_month.shifted(1), calendar)
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def next_publication(now: datetime, calendar: WorkCalendar, at: time, tz: str) -> Month:
    """The report month whose publication is the next one not yet due at `now`: last month's while
    this month's first working day (at the configured time) is still ahead, else this month's."""
    local = now.astimezone(ZoneInfo(tz))
    this_month = Month(local.year, local.month)
    previous = this_month.shifted(-1)
    if now < publication_due(previous, calendar, at, tz):
        return previous
    return this_month
