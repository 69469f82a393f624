"""The report's sections read from the other facts: satisfaction (surveys) and engineers, dealers
(warranty facts), return visits and training follow-ups, corrective actions."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import one_of

from ...domain import Policy, change, mean, rate
from .loading import MonthData
from .scope import DIMENSIONS, STEPS, A, D, F, S, Scope, T, W


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
