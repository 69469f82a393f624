"""The ticket page's actions: which ones the signed-in user's role and the ticket's state allow (as
the tickets API's guards, `tickets.domain.TRANSITIONS` and `usecases.access.require_handler` decide,
so no button is shown that the API would refuse), and each form turned into the API's JSON body.
No web code: the HTTP layer (http/ticket.py) posts what `build` returns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .forms import FormError, text_field
from .people import SessionUser

DESK = ("service_agent", "service_supervisor")
HANDLERS = ("service_agent", "service_supervisor", "engineer", "dealer")
# the tickets API's READERS: who works with tickets (finance only reads one it invoices)
ALL_READERS = ("service_agent", "service_supervisor", "engineer", "dealer", "manager", "technical")
OPEN = frozenset(
    {
        "new",
        "acknowledged",
        "assigned",
        "in_progress",
        "waiting_customer",
        "waiting_parts",
        "resolved",
    }
)
PAUSED = frozenset({"waiting_customer", "waiting_parts"})
# what a repair or a complaint is completed with (tickets.domain.CLASSIFIED_TYPES)
CLASSIFIED_TYPES = frozenset({"quality_issue", "complaint"})

PAUSE_REASONS = {"waiting_customer": "等待客户", "waiting_parts": "等待备件"}
PROGRESS_KINDS = {
    "note": "进展",
    "action": "处理",
    "milestone": "里程碑",
    "parts": "备件",
    "fee": "费用",
}
FEE_KINDS = {"repair": "维修费", "travel": "差旅费", "labour": "人工费", "parts": "备件费"}
AMOUNT = re.compile(r"^\d{1,8}(\.\d{1,2})?$")
VISIBILITY = {"internal": "仅内部", "customer": "客户可见"}
DOCUMENTS = {
    "repair_sheet": "维修单",
    "complaint_confirmation": "投诉处理确认",
    "answer_confirmation": "答复确认",
}
METHODS = {"signature": "现场签字", "phone": "电话确认", "sms": "短信确认", "online": "在线确认"}
URGENCIES = {"critical": "紧急停机", "urgent": "加急", "normal": "一般"}
ASSIGNEE_KINDS = {"engineer": "工程师", "dealer": "经销商"}


@dataclass(frozen=True)
class Action:
    name: str  # the console's URL segment; the tickets API's path is `api`
    label: str
    roles: tuple[str, ...]
    statuses: frozenset[str]
    api: str
    handler_only: bool = False  # engineers their own tickets, dealers their dealer's


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("acknowledge", "受理 (acknowledge)", DESK, frozenset({"new"}), "acknowledge"),
        Action(
            "assign",
            "派工 / 改派 (dispatch)",
            ("service_supervisor",),
            OPEN - {"resolved"},
            "assign",
        ),
        Action(
            "respond", "首次响应 (first response)", HANDLERS, OPEN - {"resolved"}, "respond", True
        ),
        Action(
            "onsite",
            "到场 (on site)",
            HANDLERS,
            frozenset({"assigned", "in_progress"}),
            "onsite",
            True,
        ),
        Action(
            "pause",
            "暂停计时 (pause)",
            HANDLERS,
            frozenset({"acknowledged", "assigned", "in_progress"}),
            "pause",
            True,
        ),
        Action("resume", "恢复计时 (resume)", HANDLERS, PAUSED, "resume", True),
        Action("progress", "添加进展 (progress note)", HANDLERS, OPEN, "progress", True),
        Action(
            "resolve",
            "已解决 (resolve)",
            HANDLERS,
            frozenset({"assigned", "in_progress"}),
            "resolve",
            True,
        ),
        Action(
            "complete",
            "客户确认完成 (complete with sign-off)",
            HANDLERS,
            frozenset({"assigned", "in_progress", "resolved"}),
            "complete",
            True,
        ),
        Action("loaner", "提供备用机 (loaner)", HANDLERS, OPEN, "loaner", True),
        Action("urgency", "调整紧急程度 (urgency)", DESK, OPEN - {"resolved"}, "urgency"),
        Action("reopen", "重新打开 (reopen)", DESK, frozenset({"completed"}), "reopen"),
    )
}


def may_handle(user: SessionUser, ticket: dict[str, Any]) -> bool:
    """tickets' require_handler: service staff every ticket, an engineer his own, a dealer its
    dealer's."""
    if user.has(*DESK):
        return True
    if ticket.get("assignee_id") and ticket.get("assignee_id") == user.sub:
        return True
    return (
        "dealer" in user.roles
        and bool(user.dealer_id)
        and ticket.get("dealer_id") == (user.dealer_id)
    )


def available(user: SessionUser, ticket: dict[str, Any]) -> list[Action]:
    """The actions this user may take on this ticket now (the API decides again on posting)."""
    status = str(ticket.get("status", ""))
    out = []
    for action in ACTIONS.values():
        if status not in action.statuses or not user.has(*action.roles):
            continue
        if action.handler_only and not may_handle(user, ticket):
            continue
        if action.name == "respond" and ticket.get("first_response_at"):
            continue
        if action.name == "onsite" and ticket.get("onsite_at"):
            continue
        if action.name == "complete" and not ticket.get("assignee_id"):
            continue  # tickets refuses to complete an unassigned ticket
        out.append(action)
    return out


def _choice(form: dict[str, str], name: str, choices: dict[str, str], label: str) -> str:
    value = (form.get(name) or "").strip()
    if value not in choices:
        raise FormError(f"请选择{label}（{'、'.join(choices.values())}）")
    return value


def _moment(raw: str, tz: ZoneInfo, now: datetime) -> datetime:
    """A datetime-local field read as Beijing time; empty is now."""
    raw = raw.strip()
    if not raw:
        return now
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise FormError("确认时间格式不对，例如 2026-11-30T10:15") from exc
    return at.replace(tzinfo=tz) if at.tzinfo is None else at


def _fault(form: dict[str, str]) -> dict[str, Any] | None:
    symptom = (form.get("symptom") or "").strip() or None
    cause = (form.get("cause_category") or "").strip() or None
    needs_analysis = form.get("needs_analysis") == "on"
    detail = text_field(form, "cause_detail", 2000, "原因说明") or None
    if not (symptom or cause or needs_analysis or detail):
        return None
    if needs_analysis and cause:
        raise FormError("已勾选“原因待分析”，请不要同时选择原因类别")
    return {
        "symptom": symptom,
        "cause_category": None if needs_analysis else cause,
        "cause_detail": detail,
        "needs_analysis": needs_analysis,
    }


def _parts_and_fee(form: dict[str, str], kind: str) -> dict[str, Any]:
    """A progress entry's part used (name and quantity) and fee (kind and amount in yuan)."""
    out: dict[str, Any] = {}
    part = text_field(form, "part_name", 100, "备件名称")
    quantity = (form.get("part_quantity") or "").strip()
    if part:
        if not quantity.isdigit() or not 1 <= int(quantity) <= 10000:
            raise FormError("备件数量须为 1 到 10000 的整数")
        out["parts"] = [{"name": part, "quantity": int(quantity)}]
    elif kind == "parts":
        raise FormError("请填写所用备件的名称和数量")
    amount = (form.get("fee_amount") or "").strip()
    if amount:
        if not AMOUNT.fullmatch(amount):
            raise FormError("金额须为元，最多两位小数，例如 350 或 350.50")
        out["fee"] = {"kind": _choice(form, "fee_kind", FEE_KINDS, "费用类型"), "amount": amount}
    elif kind == "fee":
        raise FormError("请填写费用类型和金额")
    return out


def build(
    action: Action, form: dict[str, str], ticket: dict[str, Any], tz: ZoneInfo, now: datetime
) -> tuple[str, dict[str, Any]]:
    """The tickets API path and JSON body of this action's form, or FormError."""
    path = f"/tickets/{ticket['ticket_no']}/{action.api}"
    name = action.name
    if name == "acknowledge":
        return path, {}
    if name == "assign":
        kind = _choice(form, "assignee_kind", ASSIGNEE_KINDS, "派给工程师还是经销商")
        body: dict[str, Any] = {
            "assignee_id": text_field(form, "assignee_id", 100, "处理人账号（如 eng-zhang）", True),
            "assignee_kind": kind,
        }
        for field, label, limit in (
            ("assignee_name", "处理人姓名", 100),
            ("assignee_phone", "处理人电话", 20),
            ("reason", "派工说明", 500),
        ):
            value = text_field(form, field, limit, label)
            if value:
                body[field] = value
        return path, body
    if name in ("respond", "onsite", "resume", "resolve"):
        return path, {"note": text_field(form, "note", 2000, "说明")}
    if name == "pause":
        return path, {
            "reason": _choice(form, "reason", PAUSE_REASONS, "暂停原因"),
            "note": text_field(form, "note", 2000, "说明", required=True),
        }
    if name == "progress":
        body = {
            "kind": _choice(form, "kind", PROGRESS_KINDS, "进展类型"),
            "text": text_field(form, "text", 4000, "进展内容", required=True),
            "visibility": _choice(form, "visibility", VISIBILITY, "谁可以看到"),
        }
        body.update(_parts_and_fee(form, body["kind"]))
        return path, body
    if name == "complete":
        body = {
            "document": _choice(form, "document", DOCUMENTS, "确认单据"),
            "confirmed_by": text_field(form, "confirmed_by", 100, "客户确认人", required=True),
            "confirmed_at": _moment(form.get("confirmed_at") or "", tz, now).isoformat(),
            "method": _choice(form, "method", METHODS, "确认方式"),
        }
        remarks = text_field(form, "remarks", 2000, "备注")
        if remarks:
            body["remarks"] = remarks
        fault = _fault(form)
        if fault is None and ticket.get("request_type") in CLASSIFIED_TYPES:
            raise FormError("维修/投诉工单完成时须填写故障现象和原因类别，或勾选“原因待分析”")
        if fault is not None:
            body["fault"] = fault
        return path, body
    if name == "loaner":
        body = {
            "serial_no": text_field(form, "serial_no", 100, "备用机序列号", required=True),
            "model": text_field(form, "model", 100, "备用机型号", required=True),
        }
        reason = text_field(form, "reason", 500, "原因")
        return path, body | ({"reason": reason} if reason else {})
    if name == "urgency":
        return path, {
            "urgency": _choice(form, "urgency", URGENCIES, "紧急程度"),
            "reason": text_field(form, "reason", 500, "调整原因", required=True),
        }
    if name == "reopen":
        return path, {"reason": text_field(form, "reason", 1000, "重新打开的原因", required=True)}
    raise FormError("未知的操作")  # pragma: no cover - ACTIONS lists every name
