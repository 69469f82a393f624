"""The report as a whole: what its figures mean, the month-over-month and year-over-year changes,
and every section of one month put together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain import FAILURE_TYPES, Month, Policy, change, per_thousand
from .fact_sections import (
    actions_section,
    dealers_section,
    engineers_section,
    follow_ups_section,
    satisfaction_section,
)
from .loading import load_month
from .scope import Filters, T, scope_of
from .ticket_sections import (
    backlog_section,
    complaints_section,
    failures_section,
    first_response_section,
    pareto_section,
    sla_section,
    times_section,
    units_in_service,
    volume_section,
)

DEFINITIONS = {
    "month": "按业务时区的自然月统计；工单按受理时间归月 (tickets count in the month they were "
    "opened, business time zone)",
    "failure": "故障 = 质量问题或退换货工单 (a failure is a quality_issue or return_exchange "
    "ticket)",
    "units_in_service": "在用台数 = 月末前已签合同的设备台数 (units whose contract was signed "
    "before the month's end)",
    "response": "响应时间 = 受理至首次派工的工作时间 (opened to first assignment, working time)",
    "resolution": "解决时间 = 受理至服务完成的工作时间 (opened to completion, working time)",
    "first_time_fix": "一次修复 = 完成后未重开、未因回访或低分开跟进单 (completed and neither "
    "reopened nor followed up)",
    "sla": "达标率 = 1 − 超时工单数 / 有该时限的工单数 (compliance = 1 − breached / tickets "
    "with that deadline)",
    "complaints": "投诉 = 本月受理的投诉工单，按最近一次定级的类型和等级统计，未说明类型的计为"
    "“未知”；升级 = 客户不接受处理方案后升级 (complaints opened in the month, by their latest "
    "type and level; escalated = after a rejected proposal)",
}


async def headline(
    session: AsyncSession, month: Month, filters: Filters, policy: Policy
) -> dict[str, Any]:
    """The few figures compared month over month and year over year."""
    scope = await scope_of(session, month, filters, policy)
    where = [T.c.opened_at >= scope.start, T.c.opened_at < scope.end, *scope.ticket_where(session)]
    volume = await session.scalar(select(func.count()).select_from(T).where(*where)) or 0
    failures = (
        await session.scalar(
            select(func.count()).select_from(T).where(*where, T.c.request_type.in_(FAILURE_TYPES))
        )
        or 0
    )
    units = sum((await units_in_service(session, scope)).values())
    return {
        "month": str(month),
        "volume": volume,
        "failures": failures,
        "failures_per_thousand": per_thousand(failures, units),
    }


async def changes_section(
    session: AsyncSession, month: Month, filters: Filters, policy: Policy
) -> dict[str, Any]:
    now = await headline(session, month, filters, policy)
    out: dict[str, Any] = {"current": now}
    for name, other in (
        ("previous_month", month.shifted(-1)),
        ("previous_year", month.shifted(-12)),
    ):
        past = await headline(session, other, filters, policy)
        past["change"] = {
            k: change(now[k], past[k]) for k in ("volume", "failures", "failures_per_thousand")
        }
        out[name] = past
    return out


async def monthly_report(
    session: AsyncSession, month: Month, filters: Filters, policy: Policy, now: datetime
) -> dict[str, Any]:
    scope = await scope_of(session, month, filters, policy)
    data = await load_month(session, scope, policy, full=False)
    units = await units_in_service(session, scope)
    satisfaction, surveys = await satisfaction_section(session, scope, policy)
    return {
        "month": str(month),
        "timezone": policy.timezone,
        "filters": filters.as_dict(),
        "generated_at": now.isoformat(),
        "definitions": DEFINITIONS,
        "volume": volume_section(data),
        "failures": failures_section(data, units, policy),
        "pareto": pareto_section(data),
        "complaints": complaints_section(data),
        "sla": sla_section(data),
        "first_response": first_response_section(data),
        "times": await times_section(session, data, policy),
        "backlog": backlog_section(data, policy),
        "engineers": engineers_section(data, surveys),
        "dealers": await dealers_section(session, data),
        "satisfaction": satisfaction,
        **await follow_ups_section(session, scope),
        "corrective_actions": await actions_section(session, scope),
        "changes": await changes_section(session, month, filters, policy),
    }
