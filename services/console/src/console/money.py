"""The ticket page's 备件与费用 section (the parts service owns the money of a ticket): what it
shows, which of its forms the signed-in user's role allows (as parts' guards decide: charges.py
OVERRIDERS, QUOTERS; an engineer moves stock only with their own van), and each form turned into
the parts API's JSON body. No web code: http/ticket_money.py posts what `build` returns."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .forms import FormError, text_field
from .people import SessionUser
from .upstream import Upstream, UpstreamError

# parts' COST_READERS: stock keepers, engineers, the desk, finance, technical (never a dealer)
COST_READERS = (
    "service_supervisor",
    "manager",
    "engineer",
    "service_agent",
    "finance",
    "technical",
)
OVERRIDERS = ("service_supervisor", "manager")
QUOTERS = ("service_supervisor", "manager", "service_agent")
COVERAGE = {"warranty": "保修（三包）", "chargeable": "收费服务"}
QUOTE_STATUS = {
    "issued": "待客户确认",
    "accepted": "客户已接受",
    "declined": "客户不接受",
    "expired": "已过期",
    "withdrawn": "已撤回",
}
PART_NO = re.compile(r"^[A-Za-z0-9._/-]{2,40}$")
PRICE_CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
KEY = re.compile(r"^[A-Za-z0-9-]{8,100}$")
QUOTE_LINES = 3  # lines on the quote form (the API takes up to 50)


@dataclass
class MoneySection:
    """What the section shows: the cost (None when parts cannot say), why not, the quotes, the
    engineer's van and what can be issued from it, the price list for a quote."""

    costs: dict[str, Any] | None = None
    unavailable: str = ""
    quotes: list[dict[str, Any]] = field(default_factory=list)
    van: dict[str, Any] | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)  # part + available in the van
    part_q: str = ""
    price_items: list[dict[str, Any]] = field(default_factory=list)
    forms: tuple[str, ...] = ()
    key: str = (
        ""  # the idempotency key of this page's issue/return forms (a resent form is a no-op)
    )

    @property
    def out(self) -> list[dict[str, Any]]:
        """The parts still out on the ticket (issued minus returned): what can be returned."""
        return [line for line in (self.costs or {}).get("lines", []) if line.get("quantity", 0) > 0]

    @property
    def waiting_quote(self) -> dict[str, Any] | None:
        return next((q for q in self.quotes if q.get("status") == "issued"), None)


def forms_for(
    user: SessionUser, ticket: dict[str, Any], costs: dict[str, Any] | None
) -> tuple[str, ...]:
    """The section's forms this user may use on this ticket now."""
    if costs is None:
        return ()
    out: list[str] = []
    mine = ticket.get("assignee_id") == user.sub
    if "engineer" in user.roles and mine and ticket.get("status") != "completed":
        out += ["issue", "return"]
    if user.has(*OVERRIDERS):
        out.append("coverage")
    if user.has(*QUOTERS) and costs.get("coverage") == "chargeable":
        out += ["quote", "withdraw"]
    return tuple(out)


async def load_section(
    upstream: Upstream, user: SessionUser, ticket: dict[str, Any], part_q: str = ""
) -> MoneySection | None:
    """The section for this ticket, or None for a role that may not read a ticket's money. A
    ticket parts has not heard of, or parts not answering, is said in words; the ticket page
    still shows."""
    if not user.has(*COST_READERS):
        return None
    no = ticket["ticket_no"]
    section = MoneySection(part_q=part_q, key=uuid.uuid4().hex)
    try:
        section.costs = await upstream.get("parts", f"/tickets/{no}/costs", user.token)
        section.quotes = await upstream.get("parts", f"/tickets/{no}/quotes", user.token) or []
    except UpstreamError as exc:
        if exc.status == 404:
            section.unavailable = "备件服务尚未收到此工单（工单登记后数秒内同步），请稍后刷新"
        elif exc.status >= 500:
            section.unavailable = f"备件服务暂时无法访问（{exc.detail}），工单其余信息不受影响"
        else:
            section.unavailable = exc.detail
        return section
    section.forms = forms_for(user, ticket, section.costs)
    if "issue" in section.forms:
        await _van(upstream, user, section)
    if "quote" in section.forms:
        listed = await upstream.get("parts", "/price-list", user.token)
        section.price_items = [i for i in listed or [] if i.get("active", True)]
    return section


async def _van(upstream: Upstream, user: SessionUser, section: MoneySection) -> None:
    """The engineer's van and the parts issuable from it (those matching the search, or all
    in the van), each with what is available there."""
    vans = await upstream.get(
        "parts", "/locations", user.token, {"kind": "van", "engineer_id": user.sub}
    )
    items = (vans or {}).get("items", [])
    if not items:
        return
    section.van = items[0]
    stock = await upstream.get(
        "parts", "/stock", user.token, {"location_id": section.van["location_id"], "limit": 200}
    )
    available = {b["part_no"]: b["available"] for b in (stock or {}).get("items", [])}
    params: dict[str, Any] = {"limit": 200}
    if section.part_q:
        params["q"] = section.part_q
    parts = (await upstream.get("parts", "/parts", user.token, params) or {}).get("items", [])
    section.candidates = [
        p | {"available": available.get(p["part_no"], 0)}
        for p in parts
        if section.part_q or available.get(p["part_no"], 0) > 0
    ][:50]


def _count(raw: str, label: str, top: int = 10000) -> int:
    raw = (raw or "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= top:
        raise FormError(f"{label}须为 1 到 {top} 的整数")
    return int(raw)


def _key(form: dict[str, str]) -> str:
    key = (form.get("idempotency_key") or "").strip()
    if not KEY.fullmatch(key):
        raise FormError("表单已过期，请刷新页面后重试 (reload the page)")
    return key


def _part(form: dict[str, str]) -> str:
    part = (form.get("part_no") or "").strip()
    if not PART_NO.fullmatch(part):
        raise FormError("请选择备件（备件编号）")
    return part.upper()


def _quote_lines(form: dict[str, str]) -> list[dict[str, Any]]:
    lines = []
    for i in range(1, QUOTE_LINES + 1):
        item = (form.get(f"item_{i}") or "").strip()
        quantity = (form.get(f"quantity_{i}") or "").strip()
        if not item and not quantity:
            continue
        kind, _, code = item.partition(":")
        if kind not in ("price", "part") or not code:
            raise FormError(f"第 {i} 行：请选择收费项目或备件")
        try:
            amount = Decimal(quantity)
        except InvalidOperation:
            amount = Decimal(0)
        if not (Decimal(0) < amount <= Decimal(10000)) or amount != amount.quantize(
            Decimal("0.01")
        ):
            raise FormError(f"第 {i} 行：数量须大于 0，最多两位小数")
        line: dict[str, Any] = {"quantity": str(amount)}
        if kind == "price":
            if not PRICE_CODE.fullmatch(code):
                raise FormError(f"第 {i} 行：收费项目无效")
            line["price_code"] = code
        else:
            if not PART_NO.fullmatch(code):
                raise FormError(f"第 {i} 行：备件编号无效")
            line["part_no"] = code.upper()
        lines.append(line)
    if not lines:
        raise FormError("报价至少需要一行（收费项目或备件及数量）")
    return lines


def _tax_rate(raw: str) -> str | None:
    raw = (raw or "").strip().rstrip("%")
    if not raw:
        return None
    try:
        percent = Decimal(raw)
    except InvalidOperation as exc:
        raise FormError("税率须为 0 到 17 之间的百分数，例如 13") from exc
    if not Decimal(0) <= percent <= Decimal(17):
        raise FormError("税率须为 0 到 17 之间的百分数，例如 13")
    return str((percent / 100).quantize(Decimal("0.0001")))


def build(
    name: str, form: dict[str, str], ticket_no: str, section: MoneySection
) -> tuple[str, str, dict[str, Any]]:
    """The parts API method, path and JSON body of this form, or FormError."""
    if name == "issue":
        if section.van is None:
            raise FormError("您还没有车载库，请联系客服主管开设 (no van stock location yet)")
        return (
            "POST",
            "/movements",
            {
                "kind": "issue",
                "part_no": _part(form),
                "quantity": _count(form.get("quantity", ""), "数量"),
                "from_location": section.van["location_id"],
                "ticket_no": ticket_no,
                "idempotency_key": _key(form),
            },
        )
    if name == "return":
        if section.van is None:
            raise FormError("您还没有车载库，请联系客服主管开设 (no van stock location yet)")
        return (
            "POST",
            "/movements",
            {
                "kind": "return_unused",
                "part_no": _part(form),
                "quantity": _count(form.get("quantity", ""), "数量"),
                "to_location": section.van["location_id"],
                "ticket_no": ticket_no,
                "idempotency_key": _key(form),
                "reason": text_field(form, "reason", 500, "原因") or None,
            },
        )
    if name == "coverage":
        coverage = (form.get("coverage") or "").strip()
        if coverage not in COVERAGE:
            raise FormError("请选择保修（三包）或收费服务")
        reason = text_field(form, "reason", 500, "调整原因", required=True)
        if len(reason) < 4:
            raise FormError("调整原因至少 4 个字，说明为什么改判")
        return "PUT", f"/tickets/{ticket_no}/coverage", {"coverage": coverage, "reason": reason}
    if name == "quote":
        body: dict[str, Any] = {"lines": _quote_lines(form)}
        rate = _tax_rate(form.get("tax_percent", ""))
        if rate is not None:
            body["tax_rate"] = rate
        note = text_field(form, "note", 1000, "备注")
        if note:
            body["note"] = note
        return "POST", f"/tickets/{ticket_no}/quotes", body
    if name == "withdraw":
        quote_no = (form.get("quote_no") or "").strip()
        if not re.fullmatch(r"[A-Za-z0-9-]{1,80}", quote_no):
            raise FormError("请选择要撤回的报价")
        reason = text_field(form, "reason", 500, "撤回原因", required=True)
        if len(reason) < 4:
            raise FormError("撤回原因至少 4 个字")
        return "POST", f"/tickets/{ticket_no}/quotes/{quote_no}/withdraw", {"reason": reason}
    raise FormError("未知的操作")


MESSAGES = {
    "issue": "已领用备件到本工单",
    "return": "已退回未用备件到车载库",
    "coverage": "已调整保修/收费判定",
    "withdraw": "报价已撤回",
}
