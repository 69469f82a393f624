"""One ticket as its page shows it (read-only in this slice): every SLA clock with its countdown,
and a timeline of the ticket's steps and its progress log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .actions import FEE_KINDS
from .board import CLOCKS, REQUEST_TYPES, STATUSES, URGENCY, labels, wall_clock
from .countdown import ClockView, Countdown, countdown
from .people import SessionUser, known_as
from .upstream import Upstream

STEPS = (
    ("opened_at", "登记 (opened)"),
    ("acknowledged_at", "受理 (acknowledged)"),
    ("assigned_at", "派工 (dispatched)"),
    ("first_response_at", "首次响应 (first response)"),
    ("onsite_at", "到场 (on site)"),
    ("resolved_at", "解决 (resolved)"),
    ("completed_at", "完成 (completed)"),
)
PROGRESS_KINDS = {
    "note": "进展",
    "action": "处理",
    "milestone": "里程碑",
    "parts": "备件",
    "fee": "费用",
    "loaner": "备用机",
    # written by tickets itself beside a step (dispatch, urgency, a complaint, the customer's word)
    "dispatch": "派工说明",
    "urgency": "紧急程度调整",
    "complaint": "投诉",
    "customer": "客户反馈",
}


@dataclass(frozen=True)
class ClockLine:
    label: str
    countdown: Countdown
    left: str
    state: str
    deadline: str
    target: str


@dataclass(frozen=True)
class Step:
    at: datetime
    at_label: str
    title: str
    text: str
    who: str
    internal: bool


@dataclass(frozen=True)
class TicketPage:
    ticket: dict[str, Any]
    urgency_label: str
    type_label: str
    status_label: str
    clocks: list[ClockLine]
    timeline: list[Step]
    now_label: str


def _at(value: Any) -> datetime | None:
    return ClockView.from_api(
        {"kind": "", "state": "", "target_minutes": 0, "deadline": value}
    ).deadline


def _hours(minutes: float) -> str:
    whole = int(minutes)
    return f"{whole // 60}小时{whole % 60:02d}分" if whole >= 60 else f"{whole}分"


def _steps(
    t: dict[str, Any], progress: list[dict[str, Any]], tz: ZoneInfo, now: datetime
) -> list[Step]:
    steps = []
    for field, title in STEPS:
        at = _at(t.get(field))
        if at is not None:
            who = t.get("assignee_name") or "" if field == "assigned_at" else ""
            steps.append(Step(at, wall_clock(at, tz, now), title, "", who, False))
    for p in progress:
        at = _at(p["at"])
        if at is None:
            continue
        parts = "、".join(
            f"{x.get('name', '')}×{x.get('quantity', '')}" for x in p.get("parts") or []
        )
        fee_kind = FEE_KINDS.get(p.get("fee_kind") or "", p.get("fee_kind") or "费用")
        fee = f"{fee_kind} ¥{p['fee_amount']}" if p.get("fee_amount") else ""
        text = " · ".join(x for x in (p.get("text") or "", parts, fee) if x)
        title = PROGRESS_KINDS.get(p.get("kind", ""), p.get("kind", ""))
        internal = p.get("visibility") == "internal"
        author = known_as(p.get("author")) if p.get("author") else ""
        steps.append(Step(at, wall_clock(at, tz, now), title, text, author, internal))
    return sorted(steps, key=lambda s: s.at)


async def load_ticket(upstream: Upstream, user: SessionUser, no: str, now: datetime) -> TicketPage:
    t = await upstream.get("tickets", f"/tickets/{no}", user.token)
    progress = await upstream.get("tickets", f"/tickets/{no}/progress", user.token)
    tz = ZoneInfo(upstream.settings.business_timezone)
    calendar = await upstream.calendar(t.get("calendar_id") or "default", user.token)
    clocks = []
    for raw in t.get("clocks") or []:
        view = ClockView.from_api(raw)
        c = countdown(view, calendar, now)
        _, left, state, deadline = labels(c, tz, now)
        target = _hours(view.target.total_seconds() / 60)
        clocks.append(ClockLine(CLOCKS.get(c.kind, c.kind), c, left, state, deadline, target))
    return TicketPage(
        ticket=t,
        urgency_label=URGENCY.get(t["urgency"], t["urgency"]),
        type_label=REQUEST_TYPES.get(t["request_type"], t["request_type"]),
        status_label=STATUSES.get(t["status"], t["status"]),
        clocks=clocks,
        timeline=_steps(t, progress if isinstance(progress, list) else [], tz, now),
        now_label=wall_clock(now, tz, now),
    )
