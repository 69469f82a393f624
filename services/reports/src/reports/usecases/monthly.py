"""The monthly report as data: every figure computed from the read model for one month in the
business time zone, whole company or filtered by product line, region (the dealer's) or dealer.

Which tickets a figure counts is one predicate (`FIGURES`), used both for the figure and for its
drill-down list, so the list behind a figure always has as many tickets as the figure says."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.calendars import load_calendar
from aftersales_shared.db import one_of
from aftersales_shared.errors import DomainError

from ..domain import (
    FAILURE_TYPES,
    Month,
    Policy,
    ageing_bucket,
    ageing_labels,
    change,
    is_abnormal,
    mean,
    pareto,
    per_thousand,
    percentile,
    rate,
    upper_limit,
)
from ..models import (
    CorrectiveActionFact,
    CorrectiveActionStepFact,
    DealerFact,
    FollowUpFact,
    SurveyFact,
    TicketEventFact,
    TicketFact,
    UnitFact,
    WarrantyFact,
)
from ..worktime import WorkingClock

T = TicketFact.__table__
U = UnitFact.__table__
E = TicketEventFact.__table__
S = SurveyFact.__table__
F = FollowUpFact.__table__
A = CorrectiveActionFact.__table__
STEPS = CorrectiveActionStepFact.__table__
W = WarrantyFact.__table__
D = DealerFact.__table__
UNKNOWN = "未知"
CLOCKS = ("acknowledge", "response", "onsite", "resolution")
DEADLINE_OF = {
    "acknowledge": "acknowledge_due",
    "response": "response_due",
    "resolution": "resolution_due",
}
DIMENSIONS = ("efficiency", "attitude", "professionalism")
SLA_KINDS = ("sla_warning", "sla_breached", "sla_escalated")
COMPLAINT_KINDS = ("complaint_overdue", "complaint_escalated")

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


@dataclass(frozen=True)
class Filters:
    product_line: str | None = None
    region: str | None = None
    dealer_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "product_line": self.product_line,
            "region": self.region,
            "dealer_id": self.dealer_id,
        }


@dataclass
class Scope:
    """The month's window and which dealers the filters leave (None: every dealer)."""

    month: Month
    start: datetime
    end: datetime
    filters: Filters
    dealers: list[str] | None

    def ticket_where(self, session: AsyncSession, table: Any = T) -> list[Any]:
        conds = []
        if self.dealers is not None:
            conds.append(one_of(session, table.c.dealer_id, self.dealers))
        if self.filters.product_line:
            conds.append(table.c.product_line == self.filters.product_line)
        return conds


async def scope_of(session: AsyncSession, month: Month, filters: Filters, policy: Policy) -> Scope:
    start, end = month.bounds(policy.timezone)
    dealers: list[str] | None = None
    if filters.region:
        dealers = list(
            await session.scalars(select(D.c.dealer_id).where(D.c.region == filters.region))
        )
    if filters.dealer_id:
        dealers = [filters.dealer_id] if dealers is None or filters.dealer_id in dealers else []
    return Scope(month, start, end, filters, dealers)


# --- loading -----------------------------------------------------------------------------------


# what the figures never read (the drill-down's list does): left out of the report's own load
NOT_COUNTED = (
    "ticket_no", "customer_id", "serial_no", "symptom", "last_assigned_at", "follow_up_of",
    "last_event_id",
)  # fmt: skip


def _ticket_columns(full: bool = True) -> list[Any]:
    """Every column for the drill-down; for the figures not the NOT_COUNTED ones, and a deadline
    only as whether there is one (what the SLA figures ask; a timestamp less per row to decode)."""
    deadlines = set(DEADLINE_OF.values())
    return [
        *(
            c if full or c.name not in deadlines else c.is_not(None).label(c.name)
            for c in T.c
            if full or c.name not in NOT_COUNTED
        ),
        U.c.model.label("unit_model"),
        U.c.batch_no.label("unit_batch"),
    ]


async def _tickets(
    session: AsyncSession, scope: Scope, *conds: Any, full: bool = True
) -> list[dict[str, Any]]:
    stmt = (
        select(*_ticket_columns(full))
        .select_from(T.outerjoin(U, U.c.serial_no == T.c.serial_no))
        .where(*conds, *scope.ticket_where(session))
    )
    if full:  # the drill-down lists tickets in order; the figures only count them
        stmt = stmt.order_by(T.c.opened_at, T.c.ticket_no)
    result = await session.execute(stmt)
    keys = list(result.keys())  # once, not a RowMapping per row (a month is ~30,000 rows)
    rows = [dict(zip(keys, r, strict=True)) for r in result]
    for row in rows:
        row["model"] = row["unit_model"] or row["product_model"] or UNKNOWN
        row["batch"] = row["batch_no"] or row["unit_batch"] or UNKNOWN
    return rows


async def _open_at_end(session: AsyncSession, scope: Scope, full: bool) -> list[dict[str, Any]]:
    """Tickets opened before the month's end and not completed by then; for the figures only
    their id and age (the month's end may find tens of thousands open)."""
    conds = [
        T.c.opened_at < scope.end,
        or_(T.c.completed_at.is_(None), T.c.completed_at >= scope.end),
    ]
    if full:
        return await _tickets(session, scope, *conds)
    rows = await session.execute(
        select(T.c.ticket_id, T.c.opened_at).where(*conds, *scope.ticket_where(session))
    )
    return [{"ticket_id": i, "opened_at": at} for i, at in rows]


@dataclass
class MonthData:
    scope: Scope
    opened: list[dict[str, Any]]  # opened in the month
    completed: list[dict[str, Any]]  # completed in the month
    backlog: list[dict[str, Any]]  # open at the month's end
    breaches: dict[str, set[str]]  # clock → ticket ids of opened tickets breached on it
    sla_counts: Counter[str]  # warnings, escalations of opened tickets
    reopened: set[str]  # completed tickets reopened, or followed up
    ages: dict[str, str]  # backlog ticket id → ageing bucket
    escalated: set[str] = field(default_factory=set)  # complaints opened in the month, escalated


async def load_month(
    session: AsyncSession, scope: Scope, policy: Policy, full: bool = True
) -> MonthData:
    """The month's tickets; `full=False` (the report) loads only what the figures read, `full`
    (the drill-down) whole rows in order."""
    start, end = scope.start, scope.end
    opened = await _tickets(session, scope, T.c.opened_at >= start, T.c.opened_at < end, full=full)
    completed = await _tickets(
        session, scope, T.c.completed_at >= start, T.c.completed_at < end, full=full
    )
    backlog = await _open_at_end(session, scope, full)
    in_month = [T.c.opened_at >= start, T.c.opened_at < end, *scope.ticket_where(session)]
    breaches: dict[str, set[str]] = defaultdict(set)
    sla_counts: Counter[str] = Counter()
    rows = await session.execute(
        select(E.c.ticket_id, E.c.kind, E.c.clock)
        .select_from(E.join(T, T.c.ticket_id == E.c.ticket_id))
        .where(E.c.kind.in_([*SLA_KINDS, *COMPLAINT_KINDS]), *in_month)
    )
    escalated: set[str] = set()
    for ticket_id, kind, clock in rows:
        if kind == "sla_breached":
            breaches[clock].add(ticket_id)
        if kind == "complaint_escalated":
            escalated.add(ticket_id)
        sla_counts[kind] += 1
    done = [T.c.completed_at >= start, T.c.completed_at < end, *scope.ticket_where(session)]
    reopened = set(
        await session.scalars(
            select(E.c.ticket_id)
            .select_from(E.join(T, T.c.ticket_id == E.c.ticket_id))
            .where(E.c.kind == "reopened", *done)
        )
    )
    original = T.alias("original")
    reopened |= set(
        await session.scalars(
            select(T.c.follow_up_of)
            .select_from(T.join(original, original.c.ticket_id == T.c.follow_up_of))
            .where(
                original.c.completed_at >= start,
                original.c.completed_at < end,
                *scope.ticket_where(session, original),
            )
        )
    )
    ages = {
        t["ticket_id"]: ageing_bucket(end - t["opened_at"], policy.ageing_buckets_days)
        for t in backlog
    }
    return MonthData(
        scope, opened, completed, backlog, breaches, sla_counts, reopened, ages, escalated
    )


# --- figures and their tickets -----------------------------------------------------------------

Picker = Callable[[MonthData, str], list[dict[str, Any]]]


def _complaints(data: MonthData) -> list[dict[str, Any]]:
    return [t for t in data.opened if t["request_type"] == "complaint"]


def _failures(data: MonthData) -> list[dict[str, Any]]:
    return [t for t in data.opened if t["request_type"] in FAILURE_TYPES]


def _by(rows: list[dict[str, Any]], field: str, value: str) -> list[dict[str, Any]]:
    return [t for t in rows if (t[field] or UNKNOWN) == value]


def _batch(data: MonthData, arg: str) -> list[dict[str, Any]]:
    model, _, batch = arg.partition("|")
    return [t for t in _failures(data) if t["model"] == model and t["batch"] == batch]


FIGURES: dict[str, Picker] = {
    "volume": lambda d, _: d.opened,
    "channel": lambda d, a: _by(d.opened, "channel", a),
    "type": lambda d, a: _by(d.opened, "request_type", a),
    "urgency": lambda d, a: _by(d.opened, "urgency", a),
    "failures": lambda d, _: _failures(d),
    "model": lambda d, a: [t for t in _failures(d) if t["model"] == a],
    "batch": _batch,
    "cause": lambda d, a: [t for t in d.completed if t["cause_category"] == a],
    "part": lambda d, a: [t for t in d.completed if t["failed_part"] == a],
    "sla_tickets": lambda d, a: [t for t in d.opened if t.get(DEADLINE_OF.get(a, ""))],
    "sla_breached": lambda d, a: [t for t in d.opened if t["ticket_id"] in d.breaches.get(a, ())],
    "completed": lambda d, _: d.completed,
    "backlog": lambda d, a: [t for t in d.backlog if not a or d.ages[t["ticket_id"]] == a],
    "engineer": lambda d, a: _by(d.completed, "engineer_id", a),
    "reopened": lambda d, _: [t for t in d.completed if t["ticket_id"] in d.reopened],
    "dealer": lambda d, a: _by(d.opened, "dealer_id", a),
    "complaints": lambda d, _: _complaints(d),
    "complaint_type": lambda d, a: _by(_complaints(d), "complaint_type", a),
    "complaint_level": lambda d, a: _by(_complaints(d), "complaint_level", a),
    "complaints_escalated": lambda d, _: [
        t for t in _complaints(d) if t["ticket_id"] in d.escalated
    ],
    "first_response_late": lambda d, a: [
        t
        for t in _by(d.opened, "channel", a)
        if t["ticket_id"] in d.breaches.get("acknowledge", ())
    ],
}


def figure_tickets(data: MonthData, figure: str) -> list[dict[str, Any]]:
    """The tickets behind a figure named `kind` or `kind:argument` (e.g. `batch:XK-200|B2611`)."""
    kind, _, arg = figure.partition(":")
    picker = FIGURES.get(kind)
    if picker is None:
        known = ", ".join(FIGURES)
        raise DomainError(
            f"没有这个指标：{figure!r}，可用：{known} (unknown figure {figure!r}; known: {known})",
            code="unknown_figure",
        )
    return picker(data, arg)


# --- sections ----------------------------------------------------------------------------------


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


async def _surveys(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    conds = [S.c.answered_at >= start, S.c.answered_at < end]
    if scope.dealers is not None:
        conds.append(one_of(session, S.c.dealer_id, scope.dealers))
    source = S
    if scope.filters.product_line:
        source = S.join(T, T.c.ticket_id == S.c.ticket_id)
        conds.append(T.c.product_line == scope.filters.product_line)
    stmt = select(*S.c).select_from(source).where(*conds)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


def _score(s: dict[str, Any]) -> float:
    return sum(s[d] for d in DIMENSIONS) / len(DIMENSIONS)


def _satisfaction(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "answers": len(rows),
        "low_scores": sum(1 for r in rows if r["low_score"]),
    }
    for d in DIMENSIONS:
        out[d] = mean([r[d] for r in rows])
    out["overall"] = mean([_score(r) for r in rows])
    return out


async def satisfaction_section(
    session: AsyncSession, scope: Scope, policy: Policy
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rows = await _surveys(session, scope, scope.start, scope.end)
    current = _satisfaction(rows)
    trend = {}
    for name, other in (
        ("previous_month", scope.month.shifted(-1)),
        ("previous_year", scope.month.shifted(-12)),
    ):
        s, e = other.bounds(policy.timezone)
        past = _satisfaction(await _surveys(session, scope, s, e))
        trend[name] = {
            "month": str(other),
            **past,
            "change": {d: change(current[d], past[d]) for d in (*DIMENSIONS, "overall")},
        }
    return {**current, **trend}, rows


def engineers_section(data: MonthData, surveys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    scores: dict[str, list[float]] = defaultdict(list)
    for s in surveys:
        if s["engineer_id"]:
            scores[s["engineer_id"]].append(_score(s))
    done: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in data.completed:
        if t["engineer_id"]:
            done[t["engineer_id"]].append(t)
    out = []
    for engineer in sorted(set(done) | set(scores)):
        tickets = done.get(engineer, [])
        fixed = sum(1 for t in tickets if t["ticket_id"] not in data.reopened)
        out.append(
            {
                "engineer_id": engineer,
                "completed": len(tickets),
                "first_time_fix": rate(fixed, len(tickets)),
                "satisfaction": mean(scores.get(engineer, [])),
                "answers": len(scores.get(engineer, [])),
                "figure": f"engineer:{engineer}",
            }
        )
    return out


# a warranty fact's kind → the dealer row's count of it
OVERDUE_COLUMN = {
    "card_overdue": "cards_overdue",
    "parts_return_overdue": "parts_return_overdue",
    "warranty_service_overdue": "warranty_service_overdue",
}


async def dealers_section(session: AsyncSession, data: MonthData) -> list[dict[str, Any]]:
    scope = data.scope
    conds = [W.c.at >= scope.start, W.c.at < scope.end]
    if scope.dealers is not None:
        conds.append(one_of(session, W.c.dealer_id, scope.dealers))
    facts = (await session.execute(select(W).where(*conds))).mappings().all()
    names = {r.dealer_id: (r.name, r.region) for r in (await session.execute(select(D))).all()}
    per: dict[str, dict[str, Any]] = {}

    def row(dealer: str) -> dict[str, Any]:
        if dealer not in per:
            name, region = names.get(dealer, (None, None))
            per[dealer] = {
                "dealer_id": dealer, "name": name, "region": region, "tickets": 0,
                "cards_registered": 0, "cards_on_time": 0, "cards_not_recognised": 0,
                "cards_overdue": 0, "parts_return_overdue": 0, "warranty_service_overdue": 0,
                "deductions": 0, "deduction_amount": Decimal("0.00"), "figure": f"dealer:{dealer}",
            }  # fmt: skip
        return per[dealer]

    for t in data.opened:
        if t["dealer_id"]:
            row(t["dealer_id"])["tickets"] += 1
    for f in facts:
        r = row(f["dealer_id"])
        kind = f["kind"]
        if kind == "card_registered":
            r["cards_registered"] += 1
            r["cards_on_time"] += 1 if f["on_time"] else 0
            r["cards_not_recognised"] += 0 if f["recognised"] else 1
        elif kind == "deduction_issued":
            r["deductions"] += 1
            r["deduction_amount"] += f["amount"] or Decimal("0")
        elif kind in OVERDUE_COLUMN:
            r[OVERDUE_COLUMN[kind]] += 1
    for r in per.values():
        r["cards_on_time_rate"] = rate(r["cards_on_time"], r["cards_registered"])
        r["deduction_amount"] = str(r["deduction_amount"])
    return [per[k] for k in sorted(per)]


async def follow_ups_section(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    conds = [F.c.at >= scope.start, F.c.at < scope.end]
    if scope.dealers is not None:
        conds.append(one_of(session, F.c.dealer_id, scope.dealers))
    source = F
    if scope.filters.product_line:
        source = F.join(T, T.c.ticket_id == F.c.ticket_id)
        conds.append(T.c.product_line == scope.filters.product_line)
    rows = (await session.execute(select(*F.c).select_from(source).where(*conds))).mappings().all()
    visits = [r for r in rows if r["kind"] == "return_visit_recorded"]
    training = [r for r in rows if r["kind"] == "training_recorded"]
    outcomes = Counter(r["outcome"] for r in visits)
    return {
        "return_visits": {
            "recorded": len(visits),
            "reached": outcomes["reached"],
            "problem_persists": outcomes["problem_persists"],
            "unreachable": outcomes["unreachable"],
            "on_time": rate(sum(1 for r in visits if r["on_time"]), len(visits)),
            "overdue": sum(1 for r in rows if r["kind"] == "return_visit_overdue"),
        },
        "training_follow_ups": {
            "recorded": len(training),
            "mastered": sum(1 for r in training if r["outcome"] == "mastered"),
            "needs_retraining": sum(1 for r in training if r["outcome"] == "needs_retraining"),
            "on_time": rate(sum(1 for r in training if r["on_time"]), len(training)),
        },
    }


async def actions_section(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    conds = [A.c.overdue_at >= scope.start, A.c.overdue_at < scope.end]
    if scope.filters.product_line:
        conds.append(A.c.product_line == scope.filters.product_line)
    rows = (await session.execute(select(A).where(*conds).order_by(A.c.due_date))).mappings().all()
    return {
        "overdue": len(rows),
        "by_department": [
            {"key": k, "count": n}
            for k, n in sorted(Counter(r["owner_department"] for r in rows).items())
        ],
        "items": [
            {
                "action_no": r["action_no"],
                "kind": r["kind"],
                "title": r["title"],
                "owner_department": r["owner_department"],
                "due_date": r["due_date"].isoformat(),
                "cause_category": r["cause_category"],
                "product_line": r["product_line"],
            }
            for r in rows
        ],
        # the month's steps (CorrectiveActionChanged): actions opened, done, verified, rejected
        **await _action_steps(session, scope),
    }


async def _action_steps(session: AsyncSession, scope: Scope) -> dict[str, int]:
    """How many distinct actions took each step in the month (an action done twice counts once)."""
    conds = [STEPS.c.changed_at >= scope.start, STEPS.c.changed_at < scope.end]
    if scope.filters.product_line:
        conds.append(STEPS.c.product_line == scope.filters.product_line)
    rows = await session.execute(
        select(STEPS.c.change, func.count(func.distinct(STEPS.c.action_id)))
        .where(*conds)
        .group_by(STEPS.c.change)
    )
    counts = dict(rows.tuples().all())
    return {
        name: int(counts.get(change, 0))
        for name, change in (
            ("opened", "created"),
            ("done", "done"),
            ("verified", "verified"),
            ("rejected", "rejected"),
        )
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


async def tickets_behind(
    session: AsyncSession, month: Month, filters: Filters, policy: Policy, figure: str
) -> list[dict[str, Any]]:
    scope = await scope_of(session, month, filters, policy)
    kind = figure.partition(":")[0]
    if kind not in FIGURES:
        figure_tickets(MonthData(scope, [], [], [], {}, Counter(), set(), {}, set()), figure)
    data = await load_month(session, scope, policy)
    return figure_tickets(data, figure)
