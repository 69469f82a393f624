"""Finance's invoice register as the console shows it (发票登记): the filters of the list (status,
requested days, buyer name or tax number, ticket) and its pages, and the forms that register an
issued invoice's number and date, withdraw a request (撤回) and reverse an invoice (红冲). The
parts service checks everything again; this only says what to fix before asking it. No web
code."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .forms import FormError, day_field, text_field

# who may open the register: parts' invoicing.REGISTRARS (admin passes every check)
REGISTRARS = ("finance", "service_supervisor", "manager")
# who may open a ticket's page from the register (the tickets API lets finance read one ticket)
TICKET_READERS = ("finance", "service_supervisor", "manager")
STATUSES = {"requested": "待开票", "issued": "已开票", "cancelled": "已撤回", "reversed": "已红冲"}
# why an issued invoice is reversed (parts' invoicing.REVERSAL_REASONS)
REASONS = {
    "billing_error": "开票有误",
    "sales_return": "销货退回",
    "service_stopped": "服务中止",
    "sales_allowance": "销售折让",
}
TYPES = {"normal": "普票", "special": "专票"}
TICKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
MAX_PAGE = 10_000


@dataclass(frozen=True)
class InvoiceQuery:
    status: str = ""
    requested_from: str = ""
    requested_to: str = ""
    q: str = ""
    ticket_no: str = ""
    page: int = 1

    def filters(self) -> dict[str, str]:
        """The filters as the parts API names them (the export takes the same)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "page" and getattr(self, f.name)
        }

    def api_params(self, size: int) -> dict[str, Any]:
        return self.filters() | {"limit": size, "offset": (self.page - 1) * size}

    def link(self, path: str = "/invoices", **changes: Any) -> str:
        values: dict[str, Any] = self.filters() | {"page": self.page} | changes
        kept = {k: v for k, v in values.items() if v not in ("", None, 1)}
        return path + ("?" + urlencode(kept) if kept else "")


def parse_query(params: dict[str, str]) -> InvoiceQuery:
    """The list's query string, or FormError saying what to fix."""
    status = (params.get("status") or "").strip()
    if status and status not in STATUSES:
        raise FormError("状态只能是 待开票、已开票、已撤回 或 已红冲")
    start = day_field((params.get("requested_from") or "").strip(), "申请起日")
    end = day_field((params.get("requested_to") or "").strip(), "申请止日")
    if start and end and start > end:
        raise FormError("申请起日不能晚于止日")
    q = text_field(params, "q", 100, "购买方名称或税号")
    ticket = text_field(params, "ticket_no", 100, "工单号")
    if ticket and not TICKET.fullmatch(ticket):
        raise FormError("工单号只含字母、数字和 - _ .")
    raw_page = (params.get("page") or "1").strip()
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise FormError("页码须为 1 起的整数")
    return InvoiceQuery(status, start, end, q, ticket, int(raw_page))


def registration(form: dict[str, str]) -> dict[str, Any]:
    """The body of parts' POST /invoices/{id}/issue from the row's form. Digits and their length
    are parts' to judge (its message names the rule); here only what is missing."""
    number = text_field(form, "invoice_number", 40, "发票号码", required=True)
    code = text_field(form, "invoice_code", 40, "发票代码")
    issue_date = day_field(
        text_field(form, "issue_date", 10, "开票日期", required=True), "开票日期"
    )
    body: dict[str, Any] = {"invoice_number": number, "issue_date": issue_date}
    if code:
        body["invoice_code"] = code
    return body


def withdrawal(form: dict[str, str]) -> dict[str, Any]:
    """The body of parts' POST /invoices/{id}/cancel: why, in 2–500 characters."""
    reason = text_field(form, "reason", 500, "撤回原因", required=True)
    if len(reason) < 2:
        raise FormError("撤回原因至少 2 个字")
    return {"reason": reason}


def reversal(form: dict[str, str]) -> dict[str, Any]:
    """The body of parts' POST /invoices/{id}/reverse: the red invoice's number (a paper one's
    code), its date, one of the four reasons and a note. The number's rules are parts'."""
    number = text_field(form, "red_invoice_number", 40, "红字发票号码", required=True)
    code = text_field(form, "red_invoice_code", 40, "红字发票代码")
    day = day_field(
        text_field(form, "red_issue_date", 10, "红字发票开票日期", required=True), "开票日期"
    )
    reason = (form.get("reason") or "").strip()
    if reason not in REASONS:
        raise FormError("请选择红冲原因：" + "、".join(REASONS.values()))
    body: dict[str, Any] = {"red_invoice_number": number, "red_issue_date": day, "reason": reason}
    if code:
        body["red_invoice_code"] = code
    if note := text_field(form, "note", 500, "备注"):
        body["note"] = note
    return body


def local(value: str | None, tz: ZoneInfo) -> str:
    if not value:
        return ""
    at = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(tz)
    return at.strftime("%Y-%m-%d %H:%M")


def rows(items: list[dict[str, Any]], tz: ZoneInfo) -> list[dict[str, Any]]:
    return [
        i
        | {
            "status_zh": STATUSES.get(i.get("status", ""), i.get("status", "")),
            "type_zh": TYPES.get(i.get("invoice_type", ""), i.get("invoice_type", "")),
            "requested_label": local(i.get("requested_at"), tz),
            "cancelled_label": local(i.get("cancelled_at"), tz),
            "reason_zh": REASONS.get(i.get("cancel_reason") or "", i.get("cancel_reason") or ""),
        }
        for i in items
    ]
