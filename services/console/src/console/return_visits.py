"""Return visits (回访) as the desk works them: the due list (open visits soonest first, the
overdue ones, the finished; by dealer or engineer) and one visit with its calls. The surveys
service owns them and decides who sees which (a dealer: its own tickets' visits, read only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .board import wall_clock
from .people import SessionUser
from .ticket import _at
from .upstream import Upstream

PAGE_SIZE = 50
VIEWERS = ("service_agent", "service_supervisor", "manager", "dealer")  # surveys' readers
CALLERS = ("service_agent", "service_supervisor")  # surveys' PHONE_RECORDERS
VISIT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
ACCOUNT = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
REASONS = {"critical": "紧急工单", "complaint": "投诉工单", "sampled": "抽样"}
STATUSES = {"open": "待回访", "done": "已回访", "unreachable": "未联系上"}
OUTCOMES = {
    "reached": "已联系，问题已解决",
    "problem_persists": "问题仍存在（重新处理）",
    "not_reached": "未接通，稍后再拨",
}
RESULTS = {**OUTCOMES, "unreachable": "多次未接通，已放弃"}
# tab → the surveys API's filters
TABS = {
    "due": ("待回访", {"status": "open"}),
    "overdue": ("已逾期", {"status": "open", "overdue": "true"}),
    "done": ("已回访", {"status": "done"}),
    "unreachable": ("未联系上", {"status": "unreachable"}),
}


class QueryError(ValueError):
    """A filter a person can fix (zh-CN, English)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class VisitQuery:
    tab: str = "due"
    dealer: str = ""
    engineer: str = ""
    page: int = 1

    @classmethod
    def parse(cls, raw: dict[str, str]) -> VisitQuery:
        tab = raw.get("tab") or "due"
        if tab not in TABS:
            raise QueryError(f"tab 只能是 {'、'.join(TABS)} 之一", f"tab: one of {', '.join(TABS)}")
        dealer, engineer = (raw.get("dealer") or "").strip(), (raw.get("engineer") or "").strip()
        for value, zh in ((dealer, "经销商编号"), (engineer, "工程师账号")):
            if value and not ACCOUNT.fullmatch(value):
                raise QueryError(f"{zh}只能包含字母、数字和 -_.@", "letters, digits and -_.@ only")
        page = raw.get("page") or "1"
        if not page.isdigit() or not 1 <= int(page) <= 10_000:
            raise QueryError("页码应为 1 起的整数", "page: a whole number from 1")
        return cls(tab, dealer, engineer, int(page))

    def api_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {**TABS[self.tab][1], "limit": PAGE_SIZE}
        params["offset"] = (self.page - 1) * PAGE_SIZE
        if self.dealer:
            params["dealer_id"] = self.dealer
        if self.engineer:
            params["engineer_id"] = self.engineer
        return params

    def link(self, **change: Any) -> str:
        kept = {
            "tab": self.tab,
            "dealer": self.dealer,
            "engineer": self.engineer,
            "page": self.page,
        }
        kept.update(change)
        return "/return-visits?" + urlencode({k: v for k, v in kept.items() if v not in ("", None)})


@dataclass(frozen=True)
class VisitRow:
    id: str
    ticket_no: str
    customer: str
    reason_label: str
    status_label: str
    engineer: str
    dealer: str
    due_label: str
    overdue: bool
    completed_label: str
    calls: int


@dataclass(frozen=True)
class VisitList:
    rows: list[VisitRow]
    total: int
    pages: int
    now_label: str


def row_of(v: dict[str, Any], tz: ZoneInfo, now: datetime) -> VisitRow:
    due, done = _at(v.get("due_at")), _at(v.get("completed_at"))
    overdue = v.get("status") == "open" and (
        v.get("overdue_at") is not None or (due is not None and due <= now)
    )
    return VisitRow(
        id=v["id"],
        ticket_no=v["ticket_no"],
        customer=v.get("customer_name") or "",
        reason_label=REASONS.get(v.get("reason") or "", v.get("reason") or ""),
        status_label=STATUSES.get(v.get("status") or "", v.get("status") or ""),
        engineer=v.get("engineer_id") or "—",
        dealer=v.get("dealer_id") or "—",
        due_label=wall_clock(due, tz, now) + (" (暂定)" if v.get("due_provisional") else ""),
        overdue=overdue,
        completed_label=wall_clock(done, tz, now),
        calls=len(v.get("calls") or []),
    )


async def load_visits(
    upstream: Upstream, user: SessionUser, q: VisitQuery, now: datetime
) -> VisitList:
    page = await upstream.get("surveys", "/return-visits", user.token, params=q.api_params())
    tz = ZoneInfo(upstream.settings.business_timezone)
    total = int(page["total"])
    return VisitList(
        rows=[row_of(v, tz, now) for v in page["items"]],
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
        now_label=wall_clock(now, tz, now),
    )


@dataclass(frozen=True)
class VisitPage:
    visit: dict[str, Any]
    row: VisitRow
    calls: list[dict[str, str]]
    result_label: str
    closed_label: str
    may_call: bool


async def load_visit(
    upstream: Upstream, user: SessionUser, visit_id: str, now: datetime
) -> VisitPage:
    v = await upstream.get("surveys", f"/return-visits/{visit_id}", user.token)
    tz = ZoneInfo(upstream.settings.business_timezone)
    calls = [
        {
            "at": wall_clock(_at(c.get("at")), tz, now),
            "by": c.get("by") or "",
            "outcome": RESULTS.get(c.get("outcome") or "", c.get("outcome") or ""),
            "note": c.get("note") or "",
        }
        for c in v.get("calls") or []
    ]
    closed = _at(v.get("closed_at"))
    return VisitPage(
        visit=v,
        row=row_of(v, tz, now),
        calls=calls,
        result_label=RESULTS.get(v.get("outcome") or "", ""),
        closed_label=wall_clock(closed, tz, now) if closed else "",
        may_call=v.get("status") == "open" and user.has(*CALLERS),
    )


def call_body(data: dict[str, str]) -> dict[str, Any]:
    """The surveys API's body of the call form (the API says what else a call needs); ValueError
    when no outcome is chosen."""
    outcome = (data.get("outcome") or "").strip()
    if outcome not in OUTCOMES:
        raise ValueError(f"请选择回访结果（{'、'.join(OUTCOMES.values())}）")
    return {"outcome": outcome, "note": (data.get("note") or "").strip() or None}
