"""Corrective and preventive actions (纠正/预防措施) as the console shows them: who may open the
pages and which step forms (tickets' usecases/corrective.py QUALITY_LEADS and DEPARTMENT_ROLES
decide again), the list's tabs and filters, the due date in working days on the action's
calendar, the history in words, and the forms turned into the tickets API's bodies. No web
code (http/corrective.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aftersales_shared.workcalendar import WorkCalendar

from .expenses import working_days_left
from .forms import FormError, text_field
from .people import SessionUser

# tickets' http/roles.py ACTION_READERS and usecases/corrective.py QUALITY_LEADS (admin passes)
READERS = (
    "service_agent",
    "service_supervisor",
    "manager",
    "technical",
    "delivery",
    "sales",
    "sales_manager",
)
QUALITY_LEADS = ("technical", "service_supervisor", "manager")
# who may open a ticket's page and a complaint's (the tickets API's READERS among the above)
TICKET_READERS = ("service_agent", "service_supervisor", "manager", "technical")
DEPARTMENTS = {
    "technical": "技术部",
    "delivery": "交付部门",
    "purchasing": "采购部",
    "service": "客服部",
    "sales": "销售部",
}
# besides the named owner and management, who works on a department's actions
DEPARTMENT_ROLES: dict[str, tuple[str, ...]] = {
    "technical": ("technical",),
    "delivery": ("delivery",),
    "purchasing": (),
    "service": ("service_supervisor", "service_agent"),
    "sales": ("sales_manager", "sales"),
}
# the list opens on the department of someone who works on actions but does not lead them
MY_DEPARTMENT = {
    "delivery": "delivery",
    "sales": "sales",
    "sales_manager": "sales",
    "service_agent": "service",
}
KINDS = {"corrective": "纠正", "preventive": "预防"}
STATUSES = {
    "open": "待处理",
    "in_progress": "进行中",
    "done": "已完成待验证",
    "verified": "已验证",
}
CAUSES = {
    "design": "设计",
    "material_supplier": "材料/供应商",
    "manufacturing_batch": "制造/批次",
    "transport": "运输",
    "installation": "安装",
    "misuse": "使用不当",
    "wear": "正常磨损",
    "unknown": "未知",
}
# tab: (label, the API's filters of each part, listed one after the other)
TABS: dict[str, tuple[str, tuple[dict[str, str], ...]]] = {
    "active": ("进行中", ({"status": "open"}, {"status": "in_progress"})),
    "verify": ("待验证", ({"status": "done"},)),
    "overdue": (
        "已逾期",
        ({"status": "open", "overdue": "true"}, {"status": "in_progress", "overdue": "true"}),
    ),
    "all": ("全部", ({},)),
}
HISTORY = {
    "created": "创建",
    "started": "开始处理",
    "done": "完成，待验证",
    "verified": "验证有效，关闭",
    "rejected": "验证未通过，退回",
    "overdue": "逾期",
}
# step: (done message, the body's field, its label, required)
STEPS = {
    "start": ("已开始处理", "note", "备注", False),
    "done": ("已完成，等待验证", "result", "完成情况", True),
    "verify": ("已验证有效，措施关闭", "note", "验证意见", False),
    "reject": ("已退回，措施回到进行中", "reason", "退回原因", True),
}
ACTION_NO = re.compile(r"^[A-Za-z0-9-]{1,40}$")
TICKET_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MAX_PAGE = 10_000


def may_read(user: SessionUser) -> bool:
    return user.has(*READERS)


def may_create(user: SessionUser) -> bool:
    return user.has(*QUALITY_LEADS)


@dataclass(frozen=True)
class ActionQuery:
    """The list's tab, filters and page; `dept` is the owner department ("" = all)."""

    tab: str = "active"
    kind: str = ""
    dept: str = ""
    owner: str = ""
    ticket: str = ""
    page: int = 1

    def parts(self) -> list[dict[str, str]]:
        """The API's filters of each part of the tab."""
        common = {
            k: v
            for k, v in (
                ("kind", self.kind),
                ("owner_department", self.dept),
                ("owner_id", self.owner),
                ("ticket_no", self.ticket),
            )
            if v
        }
        return [part | common for part in TABS[self.tab][1]]

    def link(self, **changes: Any) -> str:
        values: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        # "" is an explicit choice of every department (the default may be one's own)
        kept = {k: v for k, v in values.items() if v not in ("", None, 1) or k == "dept"}
        if kept.get("tab") == "active":
            kept.pop("tab")
        return "/corrective?" + urlencode(kept)


def parse_query(params: dict[str, str], user: SessionUser) -> ActionQuery:
    """The list's query string, or FormError saying what to fix; without `dept` the list is the
    user's own department's when they work on actions without leading them."""
    tab = (params.get("tab") or "active").strip()
    if tab not in TABS:
        raise FormError(f"分类只能是 {'、'.join(label for label, _ in TABS.values())}")
    kind = (params.get("kind") or "").strip()
    if kind and kind not in KINDS:
        raise FormError("类型只能是 纠正 或 预防")
    if "dept" in params:
        dept = (params.get("dept") or "").strip()
    else:
        dept = (
            ""
            if may_create(user)
            else next((MY_DEPARTMENT[r] for r in user.roles if r in MY_DEPARTMENT), "")
        )
    if dept and dept not in DEPARTMENTS:
        raise FormError(f"责任部门只能是 {'、'.join(DEPARTMENTS.values())}")
    owner = text_field(params, "owner", 100, "负责人")
    ticket = text_field(params, "ticket", 32, "来源工单号")
    if ticket and not TICKET_NO.fullmatch(ticket):
        raise FormError("工单号只含字母、数字和 - _ .")
    raw_page = (params.get("page") or "1").strip()
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise FormError("页码须为 1 起的整数")
    return ActionQuery(tab, kind, dept, owner, ticket, int(raw_page))


def _at(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True)
class Due:
    """The due date as a person reads it: the day, working days left or overdue."""

    day: str
    words: str
    overdue: bool


def due(action: dict[str, Any], now: datetime, calendar: WorkCalendar) -> Due:
    """Working days left up to the due day's close of business; overdue counts the working days
    since. A finished action's due date no longer runs."""
    due_at = _at(action["due_at"])
    day = str(action["due_date"])
    if action.get("status") in ("done", "verified") or due_at is None:
        return Due(day, "", False)
    if now >= due_at:
        today = now.astimezone(calendar.tz).date()
        d, late = date.fromisoformat(day) + timedelta(days=1), 0
        while d <= today:
            late += calendar.is_working_day(d)
            d += timedelta(days=1)
        return Due(day, f"已逾期 {late} 个工作日" if late else "已逾期", True)
    left = working_days_left(due_at, now, calendar)
    return Due(day, f"还剩 {left} 个工作日" if left else "今天下班前截止", False)


def local(value: Any, calendar: WorkCalendar) -> str:
    at = _at(value)
    return at.astimezone(calendar.tz).strftime("%Y-%m-%d %H:%M") if at else ""


def row(action: dict[str, Any], now: datetime, calendar: WorkCalendar) -> dict[str, Any]:
    """An action with its words in zh-CN for the list and the page."""
    return action | {
        "kind_zh": KINDS.get(action.get("kind", ""), action.get("kind", "")),
        "status_zh": STATUSES.get(action.get("status", ""), action.get("status", "")),
        "dept_zh": DEPARTMENTS.get(action.get("owner_department", ""), ""),
        "cause_zh": CAUSES.get(action.get("cause_category") or "", ""),
        "due": due(action, now, calendar),
    }


def history(entries: list[dict[str, Any]], calendar: WorkCalendar) -> list[dict[str, Any]]:
    """Who, when, what and the words they wrote, oldest first."""
    out = []
    for e in entries:
        detail = e.get("detail") or {}
        said = detail.get("note") or detail.get("result") or detail.get("reason") or ""
        if e.get("action") == "created":
            dept = DEPARTMENTS.get(detail.get("owner_department") or "", "")
            said = f"责任部门 {dept}，截止 {detail.get('due_date', '')}"
        out.append(
            {
                "label": HISTORY.get(e.get("action", ""), e.get("action", "")),
                "actor": e.get("actor", ""),  # shown by name (people.known_as)
                "at": e.get("at", ""),
                "at_label": local(e.get("at"), calendar),
                "said": said,
            }
        )
    return out


def may_work(user: SessionUser, action: dict[str, Any]) -> bool:
    roles = DEPARTMENT_ROLES.get(action.get("owner_department", ""), ())
    return user.sub == action.get("owner_id") or user.has("manager", *roles)


def steps_for(user: SessionUser, action: dict[str, Any]) -> tuple[str, ...]:
    """The step forms this user is offered now; verify and reject never to the one who did it."""
    status = action.get("status")
    if status == "open" and may_work(user, action):
        return ("start",)
    if status == "in_progress" and may_work(user, action):
        return ("done",)
    if status == "done" and may_create(user) and action.get("done_by") != user.sub:
        return ("verify", "reject")
    return ()


def step_body(step: str, form: dict[str, str]) -> dict[str, str]:
    _, name, label, required = STEPS[step]
    limit = 2000 if name == "note" else 1000 if name == "reason" else 4000
    return {name: text_field(form, name, limit, label, required)}


def _day(raw: str) -> str:
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise FormError("截止日期须为日期，如 2026-12-04") from None


def ticket_nos(raw: str) -> list[str]:
    nos = [n for n in re.split(r"[\s,，、;；]+", raw) if n]
    bad = [n for n in nos if not TICKET_NO.fullmatch(n)]
    if bad:
        raise FormError(f"工单号只含字母、数字和 - _ .（{bad[0][:40]}）")
    if len(nos) > 50:
        raise FormError("一项措施最多关联 50 张工单")
    return list(dict.fromkeys(nos))


def new_action(form: dict[str, str]) -> dict[str, Any]:
    """The body of POST /corrective-actions; what is valid beyond the shape (a working day, a
    ticket that exists, a catalogue code) is the tickets service's to say."""
    kind = (form.get("kind") or "corrective").strip()
    if kind not in KINDS:
        raise FormError("类型只能是 纠正 或 预防")
    body: dict[str, Any] = {
        "kind": kind,
        "title": text_field(form, "title", 200, "标题", required=True),
    }
    dept = (form.get("owner_department") or "").strip()
    if dept not in DEPARTMENTS:
        raise FormError("请选择责任部门")
    body["owner_department"] = dept
    cause = (form.get("cause_category") or "").strip()
    if cause and cause not in CAUSES:
        raise FormError("请从列表中选择原因类别")
    for name, limit, label in (
        ("description", 4000, "问题描述与根本原因"),
        ("owner_id", 100, "负责人"),
        ("product_line", 40, "产品线"),
        ("symptom", 40, "故障现象代码"),
        ("failed_part", 40, "故障部件代码"),
    ):
        if value := text_field(form, name, limit, label):
            body[name] = value
    if cause:
        body["cause_category"] = cause
    if nos := ticket_nos(form.get("ticket_nos") or ""):
        body["ticket_nos"] = nos
    due_date = text_field(form, "due_date", 10, "截止日期")
    days = text_field(form, "due_working_days", 3, "工作日天数")
    if due_date:
        body["due_date"] = _day(due_date)
    if days:
        if not days.isdigit():
            raise FormError("工作日天数须为 1 到 250 的整数")
        body["due_working_days"] = int(days)
    return body


TYPED = (
    "kind",
    "title",
    "description",
    "owner_department",
    "owner_id",
    "ticket_nos",
    "cause_category",
    "product_line",
    "symptom",
    "failed_part",
    "due_date",
    "due_working_days",
)


def typed(form: dict[str, str]) -> dict[str, str]:
    """What was typed, kept for the form shown again."""
    return {k: str(form.get(k) or "")[:4000] for k in TYPED}


def prefill(source: str, no: str, fault: dict[str, Any] | None) -> dict[str, str]:
    """A new action's form from the ticket or complaint it answers (and that ticket's fault)."""
    values = dict.fromkeys(TYPED, "") | {"kind": "corrective", "due_working_days": "10"}
    values["ticket_nos"] = no
    if source == "complaint":
        values["owner_department"] = "service"
    for name, key in (
        ("cause_category", "cause_category"),
        ("product_line", "product_line"),
        ("symptom", "symptom_code"),
        ("failed_part", "failed_part_code"),
    ):
        if fault and fault.get(key):
            values[name] = str(fault[key])
    if fault and fault.get("cause_detail"):
        values["description"] = str(fault["cause_detail"])
    return values
