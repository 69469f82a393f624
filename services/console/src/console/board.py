"""The service desk board: tabs and filters turned into a tickets API query, each row with its
most pressing SLA countdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .countdown import ClockView, Countdown, format_overdue, format_working, most_pressing
from .people import SessionUser
from .upstream import Upstream

TABS: dict[str, str] = {
    "new": "新建/未分派 (new, unassigned)",
    "mine": "我的 (mine)",
    "risk": "即将超时 (at risk)",
    "breached": "已超时 (breached)",
}
URGENCY = {"critical": "特急", "urgent": "紧急", "normal": "一般"}
REQUEST_TYPES = {
    "quality_issue": "质量问题",
    "usage_question": "使用咨询",
    "return_exchange": "退换货",
    "complaint": "投诉",
    "suggestion": "建议",
    "installation": "安装",
    "maintenance": "保养",
}
STATUSES = {
    "new": "新建",
    "acknowledged": "已受理",
    "assigned": "已派工",
    "in_progress": "处理中",
    "waiting_customer": "等待客户",
    "waiting_parts": "等待备件",
    "onsite": "已到场",
    "resolved": "已解决",
    "completed": "已完成",
}
CLOCKS = {"acknowledge": "受理", "response": "响应", "onsite": "到场", "resolution": "解决"}
WEEKDAYS = "一二三四五六日"
FILTERS = ("urgency", "type", "product", "dealer", "engineer")


@dataclass(frozen=True)
class BoardQuery:
    tab: str = "new"
    urgency: str = ""
    type: str = ""
    product: str = ""
    dealer: str = ""
    engineer: str = ""
    page: int = 1

    def api_params(self, user: SessionUser, page_size: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "open_only": "true",
            "order": "deadline",
            "limit": page_size,
            "offset": (self.page - 1) * page_size,
        }
        if self.tab == "new":
            params["unassigned"] = "true"
        elif self.tab == "mine":
            params["assignee_id"] = user.sub
        elif self.tab == "risk":
            params["sla_state"] = "warning"
        elif self.tab == "breached":
            params["sla_state"] = "breached"
        for name, api in (
            ("urgency", "urgency"),
            ("type", "request_type"),
            ("product", "product_model"),
            ("dealer", "dealer_id"),
            ("engineer", "assignee_id"),
        ):
            value = getattr(self, name)
            if value and not (name == "engineer" and self.tab == "mine"):
                params[api] = value
        return params

    def link(self, **changes: Any) -> str:
        """This board's URL with some of its choices changed (a tab, a page)."""
        values = {"tab": self.tab, **{f: getattr(self, f) for f in FILTERS}, "page": self.page}
        values |= changes
        return "/board?" + urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})


@dataclass(frozen=True)
class Row:
    ticket_no: str
    urgency: str
    urgency_label: str
    type_label: str
    status_label: str
    customer: str
    product: str
    dealer: str
    assignee: str
    countdown: Countdown | None
    clock_label: str
    left_label: str
    state_label: str
    deadline_label: str
    left_seconds: int


@dataclass(frozen=True)
class Board:
    query: BoardQuery
    rows: list[Row]
    total: int
    pages: int
    now_label: str
    tabs: dict[str, str] = field(default_factory=lambda: dict(TABS))


def wall_clock(at: datetime | None, tz: ZoneInfo, now: datetime) -> str:
    """A deadline as the desk reads it: 11-30 周一 10:15 (with the year when it is not this one)."""
    if at is None:
        return "—"
    local, today = at.astimezone(tz), now.astimezone(tz)
    year = f"{local.year}-" if local.year != today.year else ""
    return f"{year}{local:%m-%d} 周{WEEKDAYS[local.weekday()]} {local:%H:%M}"


def labels(c: Countdown | None, tz: ZoneInfo, now: datetime) -> tuple[str, str, str, str]:
    """(clock, time left, state, wall-clock deadline) of a row's countdown."""
    if c is None:
        return "—", "—", "", "—"
    clock = CLOCKS.get(c.kind, c.kind)
    deadline = wall_clock(c.deadline, tz, now) + (" (暂定)" if c.provisional else "")
    if c.band == "met":
        return clock, "已达成", "已达成 (met)", "—"
    if c.band == "breached":
        over = f"已超时 {format_overdue(c.overdue)}" if c.deadline else "已超时"
        return clock, over, "已超时 (breached)", deadline
    left = f"剩 {format_working(c.left)}"
    if c.band == "paused":
        return clock, left, "计时暂停 (paused)", "—"
    if not c.ticking:
        resumes = wall_clock(c.resumes_at, tz, now)
        return clock, left, f"非工作时间·计时暂停，{resumes} 恢复 (off hours)", deadline
    return clock, left, "计时中 (running)", deadline


async def load_board(
    upstream: Upstream, user: SessionUser, query: BoardQuery, page_size: int, now: datetime
) -> Board:
    page = await upstream.get(
        "tickets", "/tickets", user.token, params=query.api_params(user, page_size)
    )
    tz = ZoneInfo(upstream.settings.business_timezone)
    rows = []
    for t in page["items"]:
        calendar = await upstream.calendar(t.get("calendar_id") or "default", user.token)
        c = most_pressing((ClockView.from_api(x) for x in t.get("clocks") or []), calendar, now)
        clock, left, state, deadline = labels(c, tz, now)
        rows.append(
            Row(
                ticket_no=t["ticket_no"],
                urgency=t["urgency"],
                urgency_label=URGENCY.get(t["urgency"], t["urgency"]),
                type_label=REQUEST_TYPES.get(t["request_type"], t["request_type"]),
                status_label=STATUSES.get(t["status"], t["status"]),
                customer=t.get("customer_name") or "",
                product=" · ".join(x for x in (t.get("product_model"), t.get("serial_no")) if x),
                dealer=t.get("dealer_id") or "",
                assignee=t.get("assignee_name") or t.get("assignee_id") or "未分派",
                countdown=c,
                clock_label=clock,
                left_label=left,
                state_label=state,
                deadline_label=deadline,
                left_seconds=int(c.left.total_seconds()) if c else 0,
            )
        )
    total = int(page["total"])
    return Board(
        query=query,
        rows=rows,
        total=total,
        pages=max(1, -(-total // page_size)),
        now_label=wall_clock(now, tz, now),
    )
