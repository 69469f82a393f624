"""Contracts and customers as the console shows them (合同与客户): the contract list with its
filters (state, customer, dealer, signed month) and pages, one contract with its parties, units,
versions and what changed between them, its review; a customer with contacts, units, contracts and
tickets. Read with the user's own token, so a dealer sees only what the contracts service lets it
(the contracts sold through it). No web code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .people import SessionUser
from .reviews import PARTS, STATUS
from .upstream import Upstream, UpstreamError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
ID = re.compile(r"^[\w\-.]{0,64}$")
MAX_PAGE = 10_000
TERMS = {
    "term_months": "期限（月）",
    "auto_renew": "自动续约",
    "payment_method": "付款方式",
    "payment_due_days": "付款期限（天）",
    "inspections_per_year": "年度巡检",
    "loaner_promised": "承诺备用机",
    "loaner_grade": "备用机等级",
    "scope": "服务范围",
    "onsite_service": "上门服务",
    "price_components": "价格",
    "confidentiality_clause": "保密条款",
    "dispute_resolution": "争议解决",
    "renewal_notice_days": "续约通知（天）",
    "payment_terms": "付款条款",
    "change_and_termination": "变更与解除",
}
FIELDS = {"dealer_id": "经销商", "sales_rep": "销售", "calendar": "工作日历"}


@dataclass(frozen=True)
class ContractQuery:
    status: str = ""
    customer: str = ""
    dealer: str = ""
    month: str = ""
    page: int = 1

    def api_params(self, tz: ZoneInfo, size: int) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": size, "offset": (self.page - 1) * size}
        for name, api in (
            ("status", "status"),
            ("customer", "customer_id"),
            ("dealer", "dealer_id"),
        ):
            if getattr(self, name):
                params[api] = getattr(self, name)
        if self.month:
            year, month = (int(x) for x in self.month.split("-"))
            start = datetime(year, month, 1, tzinfo=tz)
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
            params["signed_from"], params["signed_to"] = start.isoformat(), end.isoformat()
        return params

    def link(self, **changes: Any) -> str:
        values = {"status": self.status, "customer": self.customer, "dealer": self.dealer}
        values |= {"month": self.month, "page": self.page} | changes
        return "/contracts?" + urlencode({k: v for k, v in values.items() if v not in ("", 1)})


def parse_query(params: dict[str, str]) -> tuple[ContractQuery | None, str, str]:
    """The list's query string, or (None, zh, en) saying what to fix."""
    status = (params.get("status") or "").strip()
    if status and status not in STATUS:
        return None, "合同状态无效", f"status: one of {', '.join(STATUS)}"
    customer, dealer = ((params.get(k) or "").strip() for k in ("customer", "dealer"))
    for name, value in (("customer", customer), ("dealer", dealer)):
        if not ID.fullmatch(value):
            return None, f"筛选条件 {name} 只能含字母、数字和 - _ .", f"{name}: an id, at most 64"
    month = (params.get("month") or "").strip()
    if month and not MONTH.fullmatch(month):
        return None, "签署月份格式为 YYYY-MM，例如 2026-11", "month: YYYY-MM, e.g. 2026-11"
    page = params.get("page") or "1"
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        return None, "页码须为 1 起的整数", f"page: a whole number from 1 to {MAX_PAGE}"
    return ContractQuery(status, customer, dealer, month, int(page)), "", ""


@dataclass(frozen=True)
class ContractList:
    query: ContractQuery
    items: list[dict[str, Any]]
    total: int
    pages: int


async def load_list(upstream: Upstream, user: SessionUser, query: ContractQuery) -> ContractList:
    tz, size = ZoneInfo(upstream.settings.business_timezone), upstream.settings.page_size
    page = await upstream.get("contracts", "/contracts", user.token, query.api_params(tz, size))
    total = int(page["total"])
    items = [{**c, "signed_label": local(c.get("signed_at"), tz, False)} for c in page["items"]]
    return ContractList(query, items, total, max(1, -(-total // size)))


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return " · ".join(_shown(v) for v in value.values() if v not in (None, ""))
    return str(value)


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed from one version to the next, in words a reviewer reads."""
    said: list[str] = []
    before = {p["serial_no"]: p for p in old.get("products") or []}
    after = {p["serial_no"]: p for p in new.get("products") or []}
    for serial in after.keys() - before.keys():
        said.append(f"新增设备 {after[serial]['model']} {serial}")
    for serial in before.keys() - after.keys():
        said.append(f"删除设备 {before[serial]['model']} {serial}")
    for serial in sorted(after.keys() & before.keys()):
        if before[serial].get("warranty_end") != after[serial].get("warranty_end"):
            said.append(
                f"设备 {serial} 保修至：{before[serial].get('warranty_end')} → "
                f"{after[serial].get('warranty_end')}"
            )
    levels = [{lv["urgency"]: lv for lv in c.get("service_levels") or []} for c in (old, new)]
    for urgency in sorted(levels[0].keys() | levels[1].keys()):
        a, b = levels[0].get(urgency), levels[1].get(urgency)
        if a != b:
            said.append(f"服务级别 {urgency}：{_levels(a)} → {_levels(b)}")
    terms_a, terms_b = old.get("terms") or {}, new.get("terms") or {}
    for key in sorted(terms_a.keys() | terms_b.keys()):
        if terms_a.get(key) != terms_b.get(key):
            label = TERMS.get(key, key)
            said.append(f"{label}：{_shown(terms_a.get(key))} → {_shown(terms_b.get(key))}")
    for key, label in FIELDS.items():
        if old.get(key) != new.get(key):
            said.append(f"{label}：{_shown(old.get(key))} → {_shown(new.get(key))}")
    return said


def _levels(level: dict[str, Any] | None) -> str:
    if not level:
        return "—"
    onsite = level.get("onsite_minutes")
    return (
        f"响应 {level.get('response_minutes')} 分 · 到场 {onsite if onsite else '—'} 分 · "
        f"解决 {level.get('resolution_minutes')} 分"
    )


def local(value: Any, tz: ZoneInfo, with_time: bool = True) -> str:
    """An instant of the API (ISO, UTC) in Beijing time: 2026-11-29 20:57 (or the date alone)."""
    if not value:
        return "—"
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(tz)
    except ValueError:
        return str(value)
    return f"{at:%Y-%m-%d %H:%M}" if with_time else f"{at:%Y-%m-%d}"


@dataclass(frozen=True)
class Version:
    contract: dict[str, Any]
    changes: list[str]  # since the version before it; empty for the first


@dataclass(frozen=True)
class ContractPage:
    contract: dict[str, Any]
    versions: list[Version]  # newest first
    decisions: list[dict[str, Any]]  # every review decision, every round
    waiting_for: list[str]  # the parts of the current round not decided yet


async def load_contract(upstream: Upstream, user: SessionUser, no: str) -> ContractPage:
    c = await upstream.get("contracts", f"/contracts/{no}", user.token)
    try:
        versions = await upstream.get("contracts", f"/contracts/{no}/versions", user.token)
        decisions = await upstream.get("contracts", f"/contracts/{no}/reviews", user.token)
    except UpstreamError as exc:
        if exc.status != 403:  # a customer's token reads the contract only
            raise
        versions, decisions = [c], []
    ordered = sorted(versions, key=lambda v: v["version"])
    shown = [Version(v, differences(ordered[i - 1], v) if i else []) for i, v in enumerate(ordered)]
    tz = ZoneInfo(upstream.settings.business_timezone)
    decisions = [{**d, "at_label": local(d.get("at"), tz)} for d in decisions]
    waiting = [PARTS.get(p, p) for p in c.get("missing_sign_offs") or []]
    if c.get("status") != "in_review":
        waiting = []
    return ContractPage(c, list(reversed(shown)), decisions, waiting)


@dataclass(frozen=True)
class CustomerPage:
    customer: dict[str, Any]
    contracts: list[dict[str, Any]]
    units: list[dict[str, Any]]  # each product of its contracts, with the contract's number
    tickets: list[dict[str, Any]]
    tickets_total: int


async def load_customer(upstream: Upstream, user: SessionUser, customer_id: str) -> CustomerPage:
    customer = await upstream.get("contracts", f"/customers/{customer_id}", user.token)
    listed = await upstream.get(
        "contracts", "/contracts", user.token, {"customer_id": customer_id, "limit": 100}
    )
    units = [
        {**p, "contract_no": c["contract_no"], "status": c["status"]}
        for c in listed["items"]
        for p in c.get("products") or []
    ]
    try:
        tickets = await upstream.get(
            "tickets", "/tickets", user.token, {"customer_id": customer_id, "limit": 25}
        )
    except UpstreamError as exc:
        if exc.status != 403:
            raise
        tickets = {"items": [], "total": 0}
    return CustomerPage(customer, listed["items"], units, tickets["items"], int(tickets["total"]))
