"""Expense claims (报销) as the console shows them: who may use which page and form (parts'
expenses.py CLAIMANTS, APPROVERS, SETTLERS, EXCEPTION_GRANTERS decide again), the submission
deadline in working days left on the company calendar, and the forms turned into the parts API's
bodies. No web code (http/expenses.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from aftersales_shared.workcalendar import WorkCalendar

from .forms import FormError, text_field
from .people import SessionUser

CLAIMANTS = ("engineer",)
APPROVERS = ("service_supervisor", "manager")
SETTLERS = ("finance",)
GRANTERS = ("manager",)
CATEGORIES = {"transport": "交通", "lodging": "住宿", "meal_allowance": "餐补", "other": "其他"}
STATES = {
    "draft": "草稿",
    "submitted": "待审核",
    "approved": "已审核",
    "rejected": "已退回",
    "settled": "已结算",
}
HISTORY = {
    "created": "创建",
    "updated": "修改",
    "submitted": "提交审核",
    "resubmitted": "重新提交",
    "approved": "审核通过",
    "rejected": "退回修改",
    "settled": "结算",
    "late_exception": "批准逾期例外",
    "overdue": "超过提交期限",
    "approval_overdue": "超过审核期限",
    "receipt_added": "上传凭证",
    "receipt_removed": "删除凭证",
}
EDITABLE = frozenset({"draft", "rejected"})
TICKET_NO = re.compile(r"^[A-Za-z0-9-]{1,40}$")
AMOUNT = re.compile(r"^\d{1,5}(\.\d{1,2})?$")
RECEIPT_TYPES = {"image/jpeg", "image/png", "application/pdf"}
MAX_RECEIPT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Deadline:
    """The submission deadline as a person reads it: the wall clock, working days left (0 = the
    last working day is today), overdue or not."""

    at_label: str
    working_days_left: int
    overdue: bool
    provisional: bool

    @property
    def words(self) -> str:
        if self.overdue:
            return "已逾期，逾期将不予报销（需经理批准例外）"
        if self.working_days_left == 0:
            return "今天下班前截止"
        return f"还剩 {self.working_days_left} 个工作日"


def working_days_left(due: datetime, now: datetime, calendar: WorkCalendar) -> int:
    """Working days after today up to and including the due day (the due day is itself a working
    day: its close of business). A calendar day is not a working day: weekends, holidays and
    调休 Saturdays are the calendar's."""
    today = now.astimezone(calendar.tz).date()
    last = due.astimezone(calendar.tz).date()
    days, d = 0, today + timedelta(days=1)
    while d <= last:
        days += calendar.is_working_day(d)
        d += timedelta(days=1)
    return days


def deadline(claim: dict[str, Any], now: datetime, calendar: WorkCalendar) -> Deadline | None:
    """The submission deadline of a draft (None once submitted: it no longer runs)."""
    if claim.get("state") not in ("draft",) or not claim.get("submit_due_at"):
        return None
    due = datetime.fromisoformat(str(claim["submit_due_at"]).replace("Z", "+00:00"))
    local = due.astimezone(calendar.tz)
    overdue = bool(claim.get("overdue")) or now >= due
    return Deadline(
        at_label=local.strftime("%Y-%m-%d %H:%M"),
        working_days_left=0 if overdue else working_days_left(due, now, calendar),
        overdue=overdue and not claim.get("late_exception_by"),
        provisional=bool(claim.get("due_provisional")),
    )


def forms_for(user: SessionUser, claim: dict[str, Any]) -> tuple[str, ...]:
    """The claim page's forms this user may use on this claim now."""
    state, mine = claim.get("state"), claim.get("engineer_id") == user.sub
    out: list[str] = []
    if "engineer" in user.roles and mine and state in EDITABLE:
        out += ["line", "remove_line", "receipt", "remove_receipt", "submit"]
    if user.has(*APPROVERS) and not mine and state == "submitted":
        out += ["approve", "reject"]
    if user.has(*SETTLERS) and not mine and state == "approved":
        out.append("settle")
    if user.has(*GRANTERS) and not mine and state == "draft" and claim.get("overdue"):
        out.append("late_exception")
    return tuple(out)


def _day(raw: str, label: str) -> str:
    try:
        return date.fromisoformat((raw or "").strip()).isoformat()
    except ValueError as exc:
        raise FormError(f"{label}格式不对，例如 2026-11-27") from exc


def trip(form: dict[str, str]) -> dict[str, Any]:
    """A new claim's trip (its lines are added on the claim's page)."""
    start, end = (
        _day(form.get("trip_start", ""), "出差开始日期"),
        _day(form.get("trip_end", ""), "出差结束日期"),
    )
    if end < start:
        raise FormError("出差结束日期不能早于开始日期")
    body: dict[str, Any] = {
        "trip_start": start,
        "trip_end": end,
        "destination": text_field(form, "destination", 200, "出差目的地", required=True),
        "lines": [],
    }
    purpose = text_field(form, "purpose", 500, "出差事由")
    if purpose:
        body["purpose"] = purpose
    return body


def line(form: dict[str, str]) -> dict[str, Any]:
    """One expense line from the form: day, category, amount in yuan, the ticket numbers."""
    category = (form.get("category") or "").strip()
    if category not in CATEGORIES:
        raise FormError(f"请选择费用类别（{'、'.join(CATEGORIES.values())}）")
    amount = (form.get("amount") or "").strip()
    if not AMOUNT.fullmatch(amount):
        raise FormError("金额须为元，最多两位小数，例如 128 或 128.50")
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise FormError("金额格式不对") from exc
    if value <= 0 or value > Decimal("50000"):
        raise FormError("每行金额须大于 0 元，且不超过 50000 元")
    tickets = [t for t in re.split(r"[\s,，、;；]+", form.get("ticket_nos") or "") if t]
    if not tickets:
        raise FormError("请填写本行费用对应的工单号（多个用逗号分隔）")
    if len(tickets) > 10 or not all(TICKET_NO.fullmatch(t) for t in tickets):
        raise FormError("工单号格式不对（如 SV-20261130-0001），每行最多 10 个")
    out: dict[str, Any] = {
        "spent_on": _day(form.get("spent_on", ""), "费用日期"),
        "category": category,
        "amount": str(value),
        "ticket_nos": tickets,
    }
    note = text_field(form, "note", 500, "说明")
    if note:
        out["note"] = note
    return out


def as_body(claim: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The claim as the parts API's PUT takes it (trip and every line as a whole)."""
    body: dict[str, Any] = {
        "trip_start": claim["trip_start"],
        "trip_end": claim["trip_end"],
        "destination": claim["destination"],
        "lines": lines,
    }
    if claim.get("purpose"):
        body["purpose"] = claim["purpose"]
    return body


def kept_lines(claim: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim's lines as input again."""
    out = []
    for item in claim.get("lines") or []:
        kept = {k: item[k] for k in ("spent_on", "category", "amount", "ticket_nos")}
        if item.get("note"):
            kept["note"] = item["note"]
        out.append(kept)
    return out


def without_line(claim: dict[str, Any], raw: str) -> list[dict[str, Any]]:
    """The lines without line `raw`. Receipts are kept by line number, so a line cannot go while
    it or a later line has a receipt (the later ones would slide onto the wrong line)."""
    lines = kept_lines(claim)
    if not raw.isdigit() or not 1 <= int(raw) <= len(lines):
        raise FormError("请选择要删除的行")
    number = int(raw)
    if any((r.get("line_no") or 0) >= number for r in claim.get("receipts") or []):
        raise FormError(
            f"第{number}行或其后的行已有凭证：凭证按行号关联，请先删除这些凭证再删除此行"
        )
    return lines[: number - 1] + lines[number:]


def receipt(content_type: str, data: bytes, raw_line: str, claim: dict[str, Any]) -> int | None:
    """Check an uploaded receipt before it goes to parts (which checks the bytes again); the
    line it belongs to, or None for the whole claim."""
    if not data:
        raise FormError("请选择凭证文件（拍照或选择图片/PDF）")
    if content_type not in RECEIPT_TYPES:
        raise FormError("凭证只接受 JPEG、PNG 图片或 PDF 文件")
    if len(data) > MAX_RECEIPT_BYTES:
        raise FormError("凭证文件过大：最大 5 MB，请压缩后重试")
    raw_line = (raw_line or "").strip()
    if not raw_line:
        return None
    count = len(claim.get("lines") or [])
    if not raw_line.isdigit() or not 1 <= int(raw_line) <= count:
        raise FormError("请选择凭证对应的行")
    return int(raw_line)


def reason(form: dict[str, str], label: str) -> str:
    text = text_field(form, "reason", 500, label, required=True)
    if len(text) < 4:
        raise FormError(f"{label}至少 4 个字，请写明原因")
    return text


def payment_reference(form: dict[str, str]) -> str:
    return text_field(form, "payment_reference", 100, "付款凭证号", required=True)


def history(rows: list[dict[str, Any]], calendar: WorkCalendar) -> list[dict[str, Any]]:
    """The claim's trail with its moments in the business time zone and the steps in Chinese."""
    out = []
    for row in rows:
        at = datetime.fromisoformat(str(row["at"]).replace("Z", "+00:00")).astimezone(calendar.tz)
        label = HISTORY.get(row.get("action", ""), row.get("action", ""))
        out.append(row | {"at_label": at.strftime("%Y-%m-%d %H:%M"), "label": label})
    return out


def local_day(value: Any, calendar: WorkCalendar) -> str:
    """An API timestamp's day in the business time zone ('' for none)."""
    if not value:
        return ""
    at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return at.astimezone(calendar.tz).date().isoformat()
