"""The supervisors' complaints list: the open complaints the tickets service keeps (a low survey
score becomes one through SurveyAnswered), each with its level, type, stage and the deadline of
the step it waits for (the tickets service computes it in working time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .board import wall_clock
from .people import SessionUser
from .ticket import _at
from .upstream import Upstream

LEVELS = {"general": "一般", "major": "重大", "serious": "严重"}
TYPES = {
    "product_quality": "产品质量",
    "repair_quality": "维修质量",
    "timeliness": "响应与处理时效",
    "service_attitude": "服务态度",
    "charges": "收费",
    "parts_supply": "配件供应",
    "delivery_installation": "交付与安装",
    "other": "其他",
}
STAGES = {
    "acknowledgement": "待受理确认",
    "limit": "待告知处理时限",
    "investigation": "调查中",
    "resolution": "待提出处理方案",
    "confirmation": "待客户确认",
    "accepted": "客户已接受",
    "closed": "已结案",
}
PAGE_LIMIT = 100  # the tickets API's page; more open complaints than this is a page of their own


@dataclass(frozen=True)
class ComplaintRow:
    ticket_no: str
    customer: str
    level: str
    level_label: str
    type_label: str
    stage_label: str
    owner: str
    deadline_label: str
    overdue: bool
    opened_label: str


@dataclass(frozen=True)
class ComplaintList:
    rows: list[ComplaintRow]
    total: int
    now_label: str


def _due(c: dict[str, Any]) -> datetime | None:
    """The deadline of the step the complaint waits for, in its current round."""
    for clock in c.get("clocks") or []:
        if clock.get("round") == c.get("round") and clock.get("stage") == c.get("stage"):
            return _at(clock.get("due_at"))
    return None


def row_of(c: dict[str, Any], tz: ZoneInfo, now: datetime) -> ComplaintRow:
    due = _due(c)
    overdue = bool(c.get("overdue")) or (due is not None and due <= now)
    deadline = wall_clock(due, tz, now) if due else "—"
    opened = _at(c.get("opened_at"))
    return ComplaintRow(
        ticket_no=c["ticket_no"],
        customer=c.get("customer_name") or "",
        level=c["level"],
        level_label=LEVELS.get(c["level"], c["level"]),
        type_label=TYPES.get(c.get("complaint_type") or "", "未分类"),
        stage_label=STAGES.get(c["stage"], c["stage"]),
        owner=c.get("owner_id") or "",
        deadline_label=deadline + (" 已逾期" if overdue and due else ""),
        overdue=overdue,
        opened_label=wall_clock(opened, tz, now) if opened else "—",
    )


async def load_complaints(upstream: Upstream, user: SessionUser, now: datetime) -> ComplaintList:
    """Open complaints, newest first as the tickets API lists them (only what the user may see)."""
    params = {"open_only": "true", "limit": PAGE_LIMIT, "offset": 0}
    page = await upstream.get("tickets", "/complaints", user.token, params=params)
    tz = ZoneInfo(upstream.settings.business_timezone)
    rows = [row_of(c, tz, now) for c in page["items"]]
    return ComplaintList(rows=rows, total=int(page["total"]), now_label=wall_clock(now, tz, now))
