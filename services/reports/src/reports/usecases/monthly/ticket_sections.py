"""The report's sections counted from the month's tickets: volume, failures per thousand units
and abnormal batches, Pareto, complaints, SLA, first response, working times, backlog."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.calendars import load_calendar
from aftersales_shared.db import one_of

from ...domain import (
    Policy,
    ageing_labels,
    is_abnormal,
    pareto,
    per_thousand,
    percentile,
    rate,
    upper_limit,
)
from ...worktime import WorkingClock
from .figures import FIGURES, _by, _failures
from .loading import MonthData
from .scope import CLOCKS, DEADLINE_OF, UNKNOWN, Scope, U


def _counts(rows: list[dict[str, Any]], field: str, figure: str) -> list[dict[str, Any]]:
    counted = Counter((t[field] or UNKNOWN) for t in rows)
    return [
        {"key": k, "count": n, "figure": f"{figure}:{k}"}
        for k, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def volume_section(data: MonthData) -> dict[str, Any]:
    return {
        "total": len(data.opened),
        "figure": "volume",
        "by_channel": _counts(data.opened, "channel", "channel"),
        "by_type": _counts(data.opened, "request_type", "type"),
        "by_urgency": _counts(data.opened, "urgency", "urgency"),
    }


async def units_in_service(session: AsyncSession, scope: Scope) -> dict[tuple[str, str], int]:
    conds = [U.c.in_service_from < scope.end]
    if scope.dealers is not None:
        conds.append(one_of(session, U.c.dealer_id, scope.dealers))
    if scope.filters.product_line:
        conds.append(U.c.product_line == scope.filters.product_line)
    batch = func.coalesce(U.c.batch_no, UNKNOWN)
    rows = await session.execute(
        select(U.c.model, batch, func.count()).where(*conds).group_by(U.c.model, batch)
    )
    return {(m, b): n for m, b, n in rows}


def failures_section(
    data: MonthData, units: dict[tuple[str, str], int], policy: Policy
) -> dict[str, Any]:
    fails = Counter((t["model"], t["batch"]) for t in _failures(data))
    model_units: Counter[str] = Counter()
    model_fails: Counter[str] = Counter()
    for (m, _), n in units.items():
        model_units[m] += n
    for (m, _), n in fails.items():
        model_fails[m] += n
    by_model = [
        {
            "model": m,
            "units": model_units[m],
            "failures": model_fails[m],
            "per_thousand": per_thousand(model_fails[m], model_units[m]),
            "figure": f"model:{m}",
        }
        for m in sorted(set(model_units) | set(model_fails))
    ]
    by_batch = []
    for m, b in sorted(set(units) | set(fails)):
        n, f = units.get((m, b), 0), fails.get((m, b), 0)
        p = model_fails[m] / model_units[m] if model_units[m] else 0.0
        limit = upper_limit(p, n, policy.abnormal_sigmas)
        by_batch.append(
            {
                "model": m,
                "batch_no": b,
                "units": n,
                "failures": f,
                "per_thousand": per_thousand(f, n),
                "model_per_thousand": per_thousand(model_fails[m], model_units[m]),
                "upper_limit_per_thousand": round(1000 * limit, 2) if n else None,
                "abnormal": is_abnormal(f, n, p, policy),
                "figure": f"batch:{m}|{b}",
            }
        )
    total_units = sum(model_units.values())
    total = sum(model_fails.values())
    return {
        "failures": total,
        "units_in_service": total_units,
        "per_thousand": per_thousand(total, total_units),
        "figure": "failures",
        "abnormal_rule": policy.abnormal_rule(),
        "by_model": by_model,
        "by_batch": by_batch,
        "abnormal_batches": [b for b in by_batch if b["abnormal"]],
    }


def _pareto_rows(rows: list[dict[str, Any]], field: str, figure: str) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "count": r.count,
            "share": r.share,
            "cumulative": r.cumulative,
            "vital_few": r.vital_few,
            "figure": f"{figure}:{r.key}",
        }
        for r in pareto(t[field] for t in rows if t[field])
    ]


def pareto_section(data: MonthData) -> dict[str, Any]:
    return {
        "basis": "本月完成工单的故障归因 (tickets completed in the month, by their classification)",
        "causes": _pareto_rows(data.completed, "cause_category", "cause"),
        "failed_parts": _pareto_rows(data.completed, "failed_part", "part"),
        "awaiting_analysis": sum(1 for t in data.completed if t["needs_analysis"]),
    }


def complaints_section(data: MonthData) -> dict[str, Any]:
    """Complaints opened in the month by type (what they are about) and by level, as last
    classified (ComplaintClassified); steps missed (ComplaintOverdue) of those complaints."""
    rows = FIGURES["complaints"](data, "")
    return {
        "total": len(rows),
        "figure": "complaints",
        "by_type": _counts(rows, "complaint_type", "complaint_type"),
        "by_level": _counts(rows, "complaint_level", "complaint_level"),
        "steps_overdue": data.sla_counts["complaint_overdue"],
        "escalated": sum(1 for t in rows if t["ticket_id"] in data.escalated),
        "figure_escalated": "complaints_escalated",
    }


def sla_section(data: MonthData) -> dict[str, Any]:
    by_clock, by_urgency = [], []
    for clock in CLOCKS:
        field = DEADLINE_OF.get(clock)
        breached = data.breaches.get(clock, set())
        with_clock = [t for t in data.opened if field and t[field]]
        row = {
            "clock": clock,
            "tickets": len(with_clock) if field else None,
            "breached": len(breached),
            "compliance": (1 - rate(len(breached), len(with_clock))) if with_clock else None,
            "figure": f"sla_breached:{clock}",
        }
        if row["compliance"] is not None:
            row["compliance"] = round(row["compliance"], 4)
        by_clock.append(row)
        for urgency in sorted({t["urgency"] or UNKNOWN for t in with_clock}):
            mine = [t for t in with_clock if (t["urgency"] or UNKNOWN) == urgency]
            late = sum(1 for t in mine if t["ticket_id"] in breached)
            by_urgency.append(
                {
                    "clock": clock,
                    "urgency": urgency,
                    "tickets": len(mine),
                    "breached": late,
                    "compliance": round(1 - late / len(mine), 4),
                }
            )
    judged = [t for t in data.completed if t["within_sla"] is not None]
    return {
        "by_clock": by_clock,
        "by_clock_urgency": by_urgency,
        "warnings": data.sla_counts["sla_warning"],
        "escalations": data.sla_counts["sla_escalated"],
        "completed_within_sla": rate(sum(1 for t in judged if t["within_sla"]), len(judged)),
    }


def first_response_section(data: MonthData) -> dict[str, Any]:
    """The first response per channel (issue 22: every channel answered within 10 minutes): the
    month's tickets, how many were acknowledged, how many missed their acknowledgement clock
    (SlaBreached on it: the clock keeps the ticket's calendar), and how long customers waited
    until the first acknowledgement (TicketAcknowledged), in wall-clock minutes."""
    late_ids = data.breaches.get("acknowledge", set())
    rows = []
    for channel in sorted({t["channel"] or UNKNOWN for t in data.opened}):
        mine = _by(data.opened, "channel", channel)
        with_clock = [t for t in mine if t.get("acknowledge_due")]
        late = sum(1 for t in with_clock if t["ticket_id"] in late_ids)
        waits = [
            max(0.0, (t["acknowledged_at"] - t["opened_at"]).total_seconds() / 60)
            for t in mine
            if t.get("acknowledged_at") and t["opened_at"]
        ]
        rows.append(
            {
                "channel": channel,
                "tickets": len(mine),
                "acknowledged": len(waits),
                "late": late,
                "compliance": round(1 - late / len(with_clock), 4) if with_clock else None,
                "median_minutes": percentile(waits, 50),
                "p90_minutes": percentile(waits, 90),
                "figure": f"first_response_late:{channel}",
            }
        )
    return {"by_channel": rows}


async def times_section(session: AsyncSession, data: MonthData, policy: Policy) -> dict[str, Any]:
    calendar = await load_calendar(session, policy.calendar_id, policy.timezone)
    clock = WorkingClock(  # the calendar's working time, laid out once for the month's pairs
        calendar,
        [t["opened_at"] for t in data.opened]
        + [t["first_assigned_at"] for t in data.opened]
        + [t["opened_at"] for t in data.completed]
        + [t["completed_at"] for t in data.completed],
    )

    def minutes(a: datetime, b: datetime) -> float:
        return clock.between(a, b).total_seconds() / 60 if b > a else 0.0

    response = [
        (t["urgency"], minutes(t["opened_at"], t["first_assigned_at"]))
        for t in data.opened
        if t["first_assigned_at"]
    ]
    resolution = [
        (t["urgency"], minutes(t["opened_at"], t["completed_at"]))
        for t in data.completed
        if t["opened_at"]
    ]

    def stats(pairs: list[tuple[str | None, float]]) -> dict[str, Any]:
        values = [v for _, v in pairs]
        out = {"count": len(values), "median_minutes": percentile(values, 50)}
        out["p90_minutes"] = percentile(values, 90)
        out["by_urgency"] = [
            {
                "urgency": u,
                "count": len(vs),
                "median_minutes": percentile(vs, 50),
                "p90_minutes": percentile(vs, 90),
            }
            for u in sorted({u or UNKNOWN for u, _ in pairs})
            for vs in [[v for uu, v in pairs if (uu or UNKNOWN) == u]]
        ]
        return out

    return {
        "calendar": policy.calendar_id,
        "response": stats(response),
        "resolution": stats(resolution),
    }


def backlog_section(data: MonthData, policy: Policy) -> dict[str, Any]:
    counted = Counter(data.ages.values())
    return {
        "open_at_month_end": len(data.backlog),
        "figure": "backlog",
        "ageing": [
            {"bucket": label, "count": counted.get(label, 0), "figure": f"backlog:{label}"}
            for label in ageing_labels(policy.ageing_buckets_days)
        ],
    }
