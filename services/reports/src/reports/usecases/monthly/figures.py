"""Which tickets a figure counts (`FIGURES`), one predicate for the figure and for its drill-down
list, and the drill-down itself (`tickets_behind`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import DomainError

from ...domain import FAILURE_TYPES, Month, Policy
from .loading import MonthData, load_month
from .scope import DEADLINE_OF, UNKNOWN, Filters, scope_of

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


async def tickets_behind(
    session: AsyncSession, month: Month, filters: Filters, policy: Policy, figure: str
) -> list[dict[str, Any]]:
    scope = await scope_of(session, month, filters, policy)
    kind = figure.partition(":")[0]
    if kind not in FIGURES:
        figure_tickets(MonthData(scope, [], [], [], {}, Counter(), set(), {}, set()), figure)
    data = await load_month(session, scope, policy)
    return figure_tickets(data, figure)
