"""The supervisors' complaints list: the open complaints the tickets service keeps (a low survey
score becomes one through SurveyAnswered), each with its level, type, stage and the deadline of
the step it waits for (the tickets service computes it in working time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_shared.events.tickets import COMPLAINT_LEVEL_ZH, COMPLAINT_TYPE_ZH

from .board import labels, wall_clock
from .countdown import ClockView, Countdown, countdown
from .forms import FormError
from .people import SessionUser
from .ticket import _at
from .upstream import Upstream

LEVELS: dict[str, str] = dict(COMPLAINT_LEVEL_ZH)
TYPES: dict[str, str] = dict(COMPLAINT_TYPE_ZH)
STAGES = {
    "acknowledgement": "待受理确认",
    "limit": "待告知处理时限",
    "investigation": "调查中",
    "resolution": "待提出处理方案",
    "confirmation": "待客户确认",
    "accepted": "客户已接受",
    "closed": "已结案",
}
PAGE_LIMIT = 100  # complaints per page of the list (the tickets API's longest page)
# who sees complaints in the console: the desk, its supervisors, management (tickets'
# COMPLAINT_DESK), the technical department (findings), a dealer (its own, as tickets scopes) and
# an engineer (read only: the complaints about their work, as tickets scopes — 我的投诉)
VIEWERS = ("service_agent", "service_supervisor", "manager", "technical", "dealer", "engineer")
HANDLERS = ("service_agent", "service_supervisor", "manager", "technical", "dealer")
SHOWN = {"open": "未结", "all": "全部"}  # the list's filter: open complaints, or closed ones too


def engineer_only(user: SessionUser) -> bool:
    """An engineer and nothing that handles complaints: the list is 我的投诉 and read only (the
    investigation of a complaint about someone's work is not theirs to write — DOMAIN.md's
    complaint hotline is independent of the service department)."""
    return "engineer" in user.roles and not user.has(*HANDLERS)


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
    page: int = 1
    pages: int = 1
    shown: str = "open"
    mine: bool = False  # an engineer's 我的投诉


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


async def load_complaints(
    upstream: Upstream, user: SessionUser, now: datetime, page_no: int = 1, shown: str = "open"
) -> ComplaintList:
    """Open complaints (`shown="all"`: closed ones too), newest first as the tickets API lists
    them (only what the user may see: an engineer's are those about their work), PAGE_LIMIT a
    page."""
    params: dict[str, Any] = {"limit": PAGE_LIMIT, "offset": (page_no - 1) * PAGE_LIMIT}
    if shown == "open":
        params["open_only"] = "true"
    page = await upstream.get("tickets", "/complaints", user.token, params=params)
    tz = ZoneInfo(upstream.settings.business_timezone)
    rows = [row_of(c, tz, now) for c in page["items"]]
    total = int(page["total"])
    return ComplaintList(
        rows=rows,
        total=total,
        now_label=wall_clock(now, tz, now),
        page=page_no,
        pages=max(1, -(-total // PAGE_LIMIT)),
        shown=shown,
        mine=engineer_only(user),
    )


# ---------------------------------------------------------------- one complaint's page
VIAS = {"phone": "电话", "sms": "短信", "email": "邮件", "wechat": "微信", "onsite": "现场"}
ANSWER_METHODS = {"phone": "电话确认", "signature": "书面签字", "onsite": "现场确认"}
OUTCOMES = {"accepted": "接受", "rejected": "拒绝"}
HISTORY = {
    "opened": "立案",
    "acknowledged": "受理确认",
    "limit_told": "告知处理时限",
    "findings": "调查结论",
    "proposed": "提出处理方案",
    "accepted": "客户接受方案",
    "rejected": "客户拒绝方案",
    "escalated": "升级",
    "level_changed": "调整等级",
    "owner_changed": "更换负责人",
    "closed": "结案",
    "overdue": "步骤逾期",
}
DESK = ("service_agent", "service_supervisor", "manager")  # tickets' COMPLAINT_DESK
LEADS = ("service_supervisor", "manager")  # tickets' COMPLAINT_LEADS
UNFINISHED = frozenset({"acknowledgement", "limit", "investigation", "resolution", "confirmation"})


@dataclass(frozen=True)
class Step:
    """A form on the complaint's page: who may take it and in which stages (as the tickets API's
    guards and `check_complaint_step` decide, so no form is shown that the API would refuse)."""

    name: str  # the console's URL segment and the tickets API's (/complaints/{no}/<name>)
    label: str
    roles: tuple[str, ...]
    stages: frozenset[str]


STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step("acknowledge", "受理确认 (acknowledge)", DESK, frozenset({"acknowledgement"})),
        Step("limit", "告知处理时限 (time limit told)", DESK, frozenset({"limit"})),
        Step(
            "findings",
            "记录调查结论 (findings)",
            (*DESK, "technical"),
            frozenset({"investigation"}),
        ),
        Step("resolution", "提出处理方案 (propose)", DESK, frozenset({"resolution"})),
        Step("answer", "记录客户答复 (customer's answer)", DESK, frozenset({"confirmation"})),
        Step("level", "调整等级 (level)", LEADS, UNFINISHED),
        Step("owner", "更换负责人 (owner)", LEADS, UNFINISHED),
    )
}


def available(user: SessionUser, complaint: dict[str, Any]) -> list[Step]:
    stage = complaint.get("stage")
    return [s for s in STEPS.values() if stage in s.stages and user.has(*s.roles)]


def _text(data: dict[str, str], key: str) -> str:
    return (data.get(key) or "").strip()


def _required(data: dict[str, str], key: str, zh: str, en: str) -> str:
    value = _text(data, key)
    if not value:
        raise FormError(f"请填写{zh} ({en})")
    return value


def _choice(data: dict[str, str], key: str, choices: dict[str, str], zh: str) -> str:
    value = _text(data, key)
    if value not in choices:
        raise FormError(f"请选择{zh}（{'、'.join(choices.values())}）")
    return value


def _optional(data: dict[str, str], key: str) -> str | None:
    return _text(data, key) or None


def build(step: Step, data: dict[str, str], tz: ZoneInfo) -> dict[str, Any]:
    """The tickets API's JSON body of one step's form; FormError naming what is missing."""
    if step.name == "acknowledge":
        return {"note": _optional(data, "note")}
    if step.name == "limit":
        raw = _required(data, "promised_date", "承诺处理日期", "the promised date")
        try:
            promised = date.fromisoformat(raw)
        except ValueError:
            raise FormError("承诺处理日期格式应为 2026-12-04 (a date: YYYY-MM-DD)") from None
        via = _choice(data, "via", VIAS, "告知方式")
        return {"promised_date": promised.isoformat(), "via": via, "note": _optional(data, "note")}
    if step.name == "findings":
        findings = _required(data, "findings", "调查结论", "the findings")
        kind = _text(data, "complaint_type")
        if kind and kind not in TYPES:
            raise FormError("投诉类型不在列表中，请重新选择 (choose a type from the list)")
        return {"findings": findings, "complaint_type": kind or None}
    if step.name == "resolution":
        return {"resolution": _required(data, "resolution", "处理方案", "the resolution")}
    if step.name == "answer":
        outcome = _choice(data, "outcome", OUTCOMES, "客户的答复")
        who = _required(data, "confirmed_by", "确认人", "who answered for the customer")
        raw = _required(data, "confirmed_at", "确认时间", "when")
        try:
            at = datetime.fromisoformat(raw)
        except ValueError:
            raise FormError("确认时间格式不对 (a date and time: 2026-12-01T10:30)") from None
        reason = _optional(data, "reason")
        if outcome == "rejected" and not reason:
            raise FormError("客户拒绝时请填写拒绝原因 (a rejection needs its reason)")
        return {
            "outcome": outcome,
            "confirmed_by": who,
            "confirmed_at": (at if at.tzinfo else at.replace(tzinfo=tz)).isoformat(),
            "method": _choice(data, "method", ANSWER_METHODS, "确认方式"),
            "reason": reason,
            "remarks": _optional(data, "remarks"),
        }
    if step.name == "level":
        level = _choice(data, "level", LEVELS, "等级")
        return {"level": level, "reason": _required(data, "reason", "调整原因", "a reason")}
    owner = _required(data, "owner_id", "新负责人账号（如 sup-li）", "the new owner's id")
    return {"owner_id": owner, "reason": _required(data, "reason", "更换原因", "a reason")}


@dataclass(frozen=True)
class StageClock:
    round: int
    stage_label: str
    countdown: Countdown | None  # None: a step of an earlier round
    left: str
    state: str
    deadline: str
    current: bool


@dataclass(frozen=True)
class Entry:
    at: datetime
    at_label: str
    title: str
    who: str
    text: str


@dataclass(frozen=True)
class ComplaintPage:
    complaint: dict[str, Any]
    level_label: str
    type_label: str
    stage_label: str
    clocks: list[StageClock]
    proposals: list[dict[str, Any]]
    history: list[Entry]
    now_label: str
    today: str  # the business day's date, the limit form's earliest choice
    now_local: str  # for the answer form's default time (datetime-local)


def _clock(
    raw: dict[str, Any], c: dict[str, Any], calendar: Any, tz: ZoneInfo, now: datetime
) -> StageClock:
    """One step's clock as the board shows a ticket's: working time left on the ticket's calendar
    (it stands still at night and on holidays), coloured by the share of the step's time left."""
    due = _at(raw.get("due_at"))
    stage = STAGES.get(raw["stage"], raw["stage"])
    current = raw.get("round") == c.get("round")
    start = _at(c.get("round_started_at"))
    if not current or due is None or start is None:
        met = "已完成" if raw.get("met_at") else "（上一轮）"
        return StageClock(raw["round"], stage, None, met, "", wall_clock(due, tz, now), False)
    target = calendar.working_time_between(start, due) if due > start else timedelta(0)
    view = ClockView(
        kind=raw["stage"],
        state="met" if raw.get("met_at") else "running",
        target=target or timedelta(minutes=1),
        deadline=due,
        met_at=_at(raw.get("met_at")),
    )
    counted = countdown(view, calendar, now)
    _, left, state, deadline = labels(counted, tz, now)
    if counted.band == "met":
        deadline = wall_clock(due, tz, now)
    return StageClock(raw["round"], stage, counted, left, state, deadline, True)


def _detail(entry: dict[str, Any]) -> str:
    d = entry.get("detail") or {}
    said = []
    for key, label in (
        ("note", "说明"),
        ("promised_date", "承诺日期"),
        ("findings", "结论"),
        ("resolution", "方案"),
        ("reason", "原因"),
        ("confirmed_by", "确认人"),
    ):
        if d.get(key):
            said.append(f"{label}：{d[key]}")
    if d.get("via"):
        said.append(f"方式：{VIAS.get(d['via'], d['via'])}")
    if d.get("level"):
        was = LEVELS.get(d.get("previous_level") or "", "")
        said.append(f"等级：{was + ' → ' if was else ''}{LEVELS.get(d['level'], d['level'])}")
    if d.get("owner_id"):
        said.append(
            f"负责人：{d.get('previous_owner') + ' → ' if d.get('previous_owner') else ''}"
            f"{d['owner_id']}"
        )
    return "；".join(said)


async def load_complaint(
    upstream: Upstream, user: SessionUser, no: str, now: datetime
) -> ComplaintPage:
    """One complaint the user may see (the tickets API answers 404 for any other)."""
    c = await upstream.get("tickets", f"/complaints/{no}", user.token)
    calendar_id = c.get("calendar_id")
    if not calendar_id:  # a tickets service older than the complaint's own calendar_id
        ticket = await upstream.get("tickets", f"/tickets/{no}", user.token)
        calendar_id = ticket.get("calendar_id")
    tz = ZoneInfo(upstream.settings.business_timezone)
    calendar = await upstream.calendar(calendar_id or "default", user.token)
    clocks = [_clock(raw, c, calendar, tz, now) for raw in c.get("clocks") or []]
    clocks.sort(key=lambda k: (not k.current, -k.round))
    history = []
    for e in c.get("history") or []:
        at = _at(e.get("at"))
        if at is not None:
            title = HISTORY.get(e.get("action", ""), e.get("action", ""))
            history.append(
                Entry(at, wall_clock(at, tz, now), title, e.get("actor", ""), _detail(e))
            )
    proposals = []
    for p in c.get("proposals") or []:
        proposed, answered = _at(p.get("proposed_at")), _at(p.get("answered_at"))
        proposals.append(
            {
                **p,
                "proposed_label": wall_clock(proposed, tz, now),
                "answered_label": wall_clock(answered, tz, now) if answered else "",
                "outcome_label": OUTCOMES.get(p.get("outcome") or "", "待客户答复"),
                "method_label": ANSWER_METHODS.get(p.get("method") or "", p.get("method") or ""),
                "level_label": LEVELS.get(p.get("level") or "", p.get("level") or ""),
            }
        )
    local = now.astimezone(tz)
    return ComplaintPage(
        complaint=c,
        level_label=LEVELS.get(c["level"], c["level"]),
        type_label=TYPES.get(c.get("complaint_type") or "", "未分类"),
        stage_label=STAGES.get(c["stage"], c["stage"]),
        clocks=clocks,
        proposals=proposals,
        history=history,
        now_label=wall_clock(now, tz, now),
        today=local.date().isoformat(),
        now_local=local.strftime("%Y-%m-%dT%H:%M"),
    )
