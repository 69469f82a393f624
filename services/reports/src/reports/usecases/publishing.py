"""Publishing a month's report: generated, kept as it was that day, and announced (ReportPublished)
so notifications sends it to the product, production, sales and management lists.

On schedule: one job per report month (`monthly_report`, key `YYYY-MM`), due on the first working
day of the following month at the configured local time (national holidays, closures and 调休 on
the calendar count). The job publishes and arms the next month's, in the same transaction; the
shared scheduler claims a due job with SKIP LOCKED, so with several replicas it fires once. At start
the service arms the next publication not yet due (it moves a pending job when the calendar has
changed, and never re-arms a fired one). On demand: a manager, supervisor or admin publishes any
month that has begun again (a new version)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared import scheduler
from aftersales_shared.calendars import load_calendar
from aftersales_shared.db import CLOCK_SKEW
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import Envelope, ReportHeadline, ReportLinks, ReportPublishedV1
from aftersales_shared.outbox import enqueue

from ..domain import Month, Policy, next_publication, publication_due
from ..models import PublishedReport
from . import monthly
from .monthly import Filters

JOB = "monthly_report"
SCHEDULED, ON_DEMAND = "scheduled", "on_demand"
TITLE = "售后服务月度分析报告 {month} (monthly after-sales report)"


@dataclass(frozen=True)
class Schedule:
    at: time
    base_url: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def headline_of(report: dict[str, Any]) -> ReportHeadline:
    """The figures a recipient reads in the message itself."""
    resolution = next(
        (r for r in report["sla"]["by_clock"] if r["clock"] == "resolution"), {"compliance": None}
    )
    return ReportHeadline(
        tickets=report["volume"]["total"],
        failures=report["failures"]["failures"],
        failures_per_thousand=report["failures"]["per_thousand"],
        resolution_compliance=resolution["compliance"],
        satisfaction=report["satisfaction"]["overall"],
        abnormal_batches=len(report["failures"]["abnormal_batches"]),
        complaints=report["complaints"]["total"],
        corrective_actions_overdue=report["corrective_actions"]["overdue"],
    )


def links_of(base_url: str, report_id: str) -> ReportLinks:
    base = f"{base_url}/reports/published/{report_id}"
    return ReportLinks(
        html=f"{base}/html", pdf=f"{base}/pdf", xlsx=f"{base}/xlsx", csv=f"{base}/csv"
    )


async def publish(
    session: AsyncSession,
    month: Month,
    policy: Policy,
    schedule: Schedule,
    now: datetime,
    *,
    trigger: str,
    by: str | None = None,
) -> PublishedReport:
    """Generate the whole company's report for `month`, keep it as a new version and enqueue
    ReportPublished in the same transaction."""
    start, end = month.bounds(policy.timezone)
    if start > now + CLOCK_SKEW:
        raise DomainError(
            f"{month} 尚未开始，不能发布 (month {month} has not begun: nothing to publish)",
            code="month_not_begun",
        )
    report = await monthly.monthly_report(session, month, Filters(), policy, now)
    version = (
        await session.scalar(
            select(func.max(PublishedReport.version)).where(PublishedReport.month == str(month))
        )
        or 0
    ) + 1
    row = PublishedReport(
        report_id=str(uuid.uuid4()),
        month=str(month),
        version=version,
        trigger=trigger,
        published_by=by,
        published_at=now,
        month_complete=now >= end,
        report=json.dumps(report, ensure_ascii=False, default=_jsonable),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"{month} 的报告正由他人同时发布，请稍后重试 (another publication of {month} is under "
            "way; try again)",
            code="publication_in_progress",
        ) from exc
    await enqueue(
        session,
        Envelope(
            data=ReportPublishedV1(
                report_id=row.report_id,
                month=str(month),
                version=version,
                trigger=trigger,  # type: ignore[arg-type]
                published_by=by,
                published_at=now,
                month_complete=row.month_complete,
                title=TITLE.format(month=month),
                headline=headline_of(report),
                links=links_of(schedule.base_url, row.report_id),
            ),
            subject=str(month),
            time=now,
        ),
    )
    return row


async def arm_next(
    session: AsyncSession, policy: Policy, schedule: Schedule, now: datetime
) -> tuple[Month, datetime]:
    """Arm the next publication not yet due (idempotent; a pending job moves with the calendar)."""
    calendar = await load_calendar(session, policy.calendar_id, policy.timezone)
    month = next_publication(now, calendar, schedule.at, policy.timezone)
    due = publication_due(month, calendar, schedule.at, policy.timezone)
    await scheduler.schedule(session, JOB, str(month), due)
    return month, due


async def fire_scheduled(
    session: AsyncSession, key: str, policy: Policy, schedule: Schedule, now: datetime
) -> PublishedReport | None:
    """The job of a report month fell due: publish it once, and arm the following month's.

    A job armed before the calendar changed may fire early (a closure added on what was the first
    working day): then it re-arms itself at the calendar's time under a key naming that time."""
    month = Month.parse(key.partition("@")[0])
    calendar = await load_calendar(session, policy.calendar_id, policy.timezone)
    due = publication_due(month, calendar, schedule.at, policy.timezone)
    if now + CLOCK_SKEW < due:
        await scheduler.schedule(session, JOB, f"{month}@{due.isoformat()}", due)
        return None
    already = await session.scalar(
        select(PublishedReport.report_id).where(
            PublishedReport.month == str(month), PublishedReport.trigger == SCHEDULED
        )
    )
    row = None
    if already is None:
        row = await publish(session, month, policy, schedule, now, trigger=SCHEDULED)
    following = month.shifted(1)
    await scheduler.schedule(
        session,
        JOB,
        str(following),
        publication_due(following, calendar, schedule.at, policy.timezone),
    )
    return row


async def published(
    session: AsyncSession, month: str | None, limit: int, offset: int
) -> tuple[list[PublishedReport], int]:
    conds = [PublishedReport.month == month] if month else []
    total = await session.scalar(select(func.count()).select_from(PublishedReport).where(*conds))
    rows = await session.scalars(
        select(PublishedReport)
        .where(*conds)
        .order_by(PublishedReport.month.desc(), PublishedReport.version.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total or 0


async def get_published(session: AsyncSession, report_id: str) -> PublishedReport:
    row = await session.get(PublishedReport, report_id)
    if row is None:
        raise NotFound(
            f"没有编号为 {report_id} 的已发布报告 (no published report {report_id})",
            code="report_not_found",
        )
    return row
