"""Phone intake (电话受理): find the customer's entitlement by contract number or serial number
(tickets' /entitlements API), show the service level that will apply, and turn the form into the
tickets API's new-ticket body. No web code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .actions import FormError
from .board import REQUEST_TYPES, URGENCY
from .people import SessionUser
from .upstream import Upstream, UpstreamError

# a contract or serial number: letters, digits, - _ . (HT-2026-0001, SN-XK200-0042); never a / (it
# goes into the tickets API's path)
LOOKUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")


@dataclass(frozen=True)
class Level:
    urgency: str
    label: str
    response: str
    onsite: str
    resolution: str
    from_contract: bool


@dataclass(frozen=True)
class Unit:
    serial_no: str
    model: str
    warranty_end: str
    in_warranty: bool
    chosen: bool


@dataclass(frozen=True)
class Found:
    """An entitlement as the intake page shows it."""

    contract_no: str
    customer_id: str
    customer_name: str
    dealer_id: str | None
    calendar: str
    contacts: list[dict[str, Any]]
    units: list[Unit]
    levels: list[Level]
    product_model: str = ""
    serial_no: str = ""


@dataclass
class Lookup:
    """What was asked and what came back (`found` None: nothing under that number)."""

    contract_no: str = ""
    serial_no: str = ""
    found: Found | None = None
    message: str = ""
    others: list[str] = field(default_factory=list)  # further contracts covering the serial


def _minutes(value: Any) -> str:
    """Working time: 4小时, 1小时30分, 30分."""
    if not value:
        return "—"
    hours, minutes = divmod(int(value), 60)
    if not hours:
        return f"{minutes}分"
    return f"{hours}小时" + (f"{minutes:02d}分" if minutes else "")


def levels_of(entitlement: dict[str, Any]) -> list[Level]:
    """The contract's level per urgency; an urgency the contract is silent about gets the
    company's default level (tickets' DEFAULT_POLICIES, decided when the ticket is opened)."""
    by_urgency = {lv.get("urgency"): lv for lv in entitlement.get("service_levels") or []}
    out = []
    for urgency, label in URGENCY.items():
        lv = by_urgency.get(urgency)
        if lv is None:
            out.append(Level(urgency, label, "公司默认标准", "公司默认标准", "公司默认标准", False))
        else:
            out.append(
                Level(
                    urgency,
                    label,
                    _minutes(lv.get("response_minutes")),
                    _minutes(lv.get("onsite_minutes")),
                    _minutes(lv.get("resolution_minutes")),
                    True,
                )
            )
    return out


def found_of(entitlement: dict[str, Any], serial_no: str, today: date) -> Found:
    units = []
    for u in entitlement.get("units") or []:
        end = str(u.get("warranty_end") or "")
        try:
            in_warranty = date.fromisoformat(end) >= today
        except ValueError:
            in_warranty = False
        units.append(
            Unit(
                u.get("serial_no", ""),
                u.get("model", ""),
                end,
                in_warranty,
                chosen=bool(serial_no) and u.get("serial_no") == serial_no,
            )
        )
    chosen = next((u for u in units if u.chosen), units[0] if len(units) == 1 else None)
    return Found(
        contract_no=entitlement["contract_no"],
        customer_id=entitlement.get("customer_id", ""),
        customer_name=entitlement.get("customer_name", ""),
        dealer_id=entitlement.get("dealer_id"),
        calendar=entitlement.get("calendar", "default"),
        contacts=list(entitlement.get("contacts") or []),
        units=units,
        levels=levels_of(entitlement),
        product_model=chosen.model if chosen else "",
        serial_no=chosen.serial_no if chosen else "",
    )


async def look_up(
    upstream: Upstream, user: SessionUser, contract_no: str, serial_no: str, today: date
) -> Lookup:
    contract_no, serial_no = contract_no.strip(), serial_no.strip()
    asked = Lookup(contract_no, serial_no)
    for value, what in ((contract_no, "合同号"), (serial_no, "序列号")):
        if value and not LOOKUP.fullmatch(value):
            raise FormError(f"{what}只能包含字母、数字和 - _ .，最多 64 位")
    if contract_no:
        try:
            entitlement = await upstream.get("tickets", f"/entitlements/{contract_no}", user.token)
        except UpstreamError as exc:
            if exc.status != 404:
                raise
            asked.message = f"未找到合同 {contract_no}：请核对合同号，或按公司默认标准受理"
            return asked
        asked.found = found_of(entitlement, serial_no, today)
        return asked
    if serial_no:
        page = await upstream.get(
            "tickets", "/entitlements", user.token, {"serial_no": serial_no, "limit": 5}
        )
        items = page.get("items") or []
        if not items:
            asked.message = f"未找到序列号 {serial_no} 的合同：请核对铭牌，或按公司默认标准受理"
            return asked
        asked.found = found_of(items[0], serial_no, today)  # the newest signing first
        asked.others = [i["contract_no"] for i in items[1:]]
        return asked
    return asked


def ticket_body(form: dict[str, str]) -> dict[str, Any]:
    """The tickets API's TicketIn from the intake form (channel: phone), or FormError."""

    def text(name: str, limit: int) -> str:
        value = (form.get(name) or "").strip()
        if len(value) > limit:
            raise FormError(f"{name} 最多 {limit} 个字")
        return value

    request_type = text("request_type", 40)
    if request_type not in REQUEST_TYPES:
        raise FormError("请选择工单类型")
    urgency = text("urgency", 20)
    if urgency not in URGENCY:
        raise FormError("请选择紧急程度")
    description = text("description", 4000)
    if not description:
        raise FormError("请填写问题描述：故障现象和开始时间")
    contact_name, contact_phone = text("contact_name", 100), text("contact_phone", 20)
    if not contact_name:
        raise FormError("请填写联系人姓名")
    if contact_phone and not PHONE.fullmatch(contact_phone):
        raise FormError("联系电话格式不对，例如 13912345678 或 0512-66001234")
    body: dict[str, Any] = {
        "channel": "phone",
        "request_type": request_type,
        "urgency": urgency,
        "description": description,
        "contact": {"name": contact_name, **({"phone": contact_phone} if contact_phone else {})},
    }
    for name, limit in (
        ("contract_no", 64),
        ("serial_no", 100),
        ("customer_id", 64),
        ("customer_name", 200),
        ("product_model", 100),
    ):
        value = text(name, limit)
        if value:
            body[name] = value
    if form.get("use_default_policy") == "on":
        body["use_default_policy"] = True
    if not (body.get("contract_no") or body.get("serial_no") or body.get("customer_name")):
        raise FormError("请先查找客户的合同或序列号，或填写客户名称")
    return body
