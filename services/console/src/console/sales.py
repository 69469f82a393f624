"""Sales' day's work (销售): the contracts API's request bodies read from the console's forms —
a customer registered, a contract drafted or its draft edited, both parties' signatures, the
originals archived, an amendment started. Only what a person can fix at once is checked here
(required fields, lengths, date shapes); the rest (the credit code's check digit, duplicates,
the reviewed document's SHA-256) is the API's to say."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .forms import FormError, text_field

SALES = ("sales", "sales_manager")  # the contracts API's SALES guard (admin passes too)
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CONTRACT_NO = re.compile(r"^[A-Za-z0-9_/-]{1,64}$")
PRODUCT_ROWS = 3  # blank product rows offered on a new draft (one more than shown on an edit)
ARCHIVE_ITEMS = {
    "original": "合同原件",
    "customer_credentials": "客户资质证明",
    "requirement_form": "需求确认单",
    "review_form": "合同评审表",
}
SIGN_METHODS = {"seal": "盖章", "e_signature": "电子签名"}
URGENCIES = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
# the service-level table's columns, in hours on the form: the API's minutes field and its name
LEVEL_FIELDS = {
    "response": ("response_minutes", "响应时限", "Response"),
    "resolution": ("resolution_minutes", "解决时限", "Resolution"),
    "onsite": ("onsite_minutes", "到场时限", "On site"),
    "loaner": ("loaner_after_minutes", "备机时限", "Loaner after"),
}
HOURS = re.compile(r"\d{1,4}(\.\d{1,2})?", re.ASCII)
LEVEL_MAX_HOURS = 90 * 24  # the API's longest resolution time
PARTIES = {"company": "我方", "customer": "客户方"}


def customer_body(form: dict[str, str]) -> dict[str, Any]:
    """POST /customers: id, name, credit code, one contact, one address, industry."""
    customer_id = text_field(form, "customer_id", 64, "客户编号", required=True)
    if not ID.fullmatch(customer_id):
        raise FormError("客户编号只能用字母、数字、- 和 _")
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "name": text_field(form, "name", 200, "客户名称", required=True),
        "credit_code": text_field(form, "credit_code", 18, "统一社会信用代码", required=True),
    }
    contact = text_field(form, "contact_name", 100, "联系人姓名")
    phone = text_field(form, "contact_phone", 20, "联系电话")
    email = text_field(form, "contact_email", 200, "联系邮箱")
    if (phone or email) and not contact:
        raise FormError("填写了联系电话或邮箱时，请填写联系人姓名")
    if contact:
        person = {"name": contact} | ({"phone": phone} if phone else {})
        body["contacts"] = [person | ({"email": email} if email else {})]
    address = text_field(form, "address", 300, "地址")
    if address:
        body["addresses"] = [{"kind": "office", "address": address}]
    industry = text_field(form, "industry", 100, "行业")
    if industry:
        body["industry"] = industry
    return body


def _day(value: str, label: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise FormError(f"{label}请填写日期，如 2028-12-31") from None


def product_rows(form: dict[str, str]) -> list[dict[str, str]]:
    """The product rows as typed (model_0, serial_no_0, warranty_end_0, batch_no_0 …)."""
    rows = []
    i = 0
    while f"model_{i}" in form or f"serial_no_{i}" in form:
        rows.append(
            {
                k: (form.get(f"{k}_{i}") or "").strip()
                for k in ("model", "serial_no", "warranty_end", "batch_no")
            }
        )
        i += 1
    return rows


def products(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The rows filled in (a blank row is skipped); at least one."""
    found = []
    for n, row in enumerate(rows, 1):
        if not any(row.values()):
            continue
        if not row["model"] or not row["serial_no"] or not row["warranty_end"]:
            raise FormError(f"第 {n} 行设备：请填写型号、序列号和保修截止日")
        if max(len(row["model"]), len(row["serial_no"]), len(row["batch_no"])) > 100:
            raise FormError(f"第 {n} 行设备：型号、序列号、批次最多 100 个字")
        product = {
            "model": row["model"],
            "serial_no": row["serial_no"],
            "warranty_end": _day(row["warranty_end"], f"第 {n} 行设备的保修截止日"),
        }
        found.append(product | ({"batch_no": row["batch_no"]} if row["batch_no"] else {}))
    if not found:
        raise FormError("请至少填写一台设备（型号、序列号、保修截止日）")
    return found


def _term_months(form: dict[str, str]) -> int:
    value = (form.get("term_months") or "").strip() or "12"
    if not value.isdigit() or not 1 <= int(value) <= 120:
        raise FormError("服务期请填写 1 到 120 之间的月数")
    return int(value)


def _minutes(value: str, label: str) -> int:
    if not HOURS.fullmatch(value):
        raise FormError(f"{label}请填写小时数，例如 24 或 0.5")
    minutes = Decimal(value) * 60
    if minutes <= 0 or minutes != minutes.to_integral_value():
        raise FormError(f"{label}须大于 0，且是整分钟（0.5 小时可以，0.01 小时不行）")
    if minutes > LEVEL_MAX_HOURS * 60:
        raise FormError(f"{label}最长 {LEVEL_MAX_HOURS} 小时")
    return int(minutes)


def service_levels(form: dict[str, str]) -> list[dict[str, Any]] | None:
    """The service-level rows filled in (per urgency; the API keeps its defaults for the rest), or
    None when none is: a row needs its response and resolution times, the others are optional."""
    levels = []
    for urgency, name in URGENCIES.items():
        row: dict[str, Any] = {}
        for field, (api, label, _) in LEVEL_FIELDS.items():
            value = (form.get(f"{field}_{urgency}") or "").strip()
            if value:
                row[api] = _minutes(value, f"{name}工单的{label}")
        if not row:
            continue
        if "response_minutes" not in row or "resolution_minutes" not in row:
            raise FormError(f"{name}工单：服务等级须同时填写响应时限和解决时限")
        levels.append({"urgency": urgency, **row})
    return levels or None


def _hours(minutes: Any) -> str:
    return "" if minutes is None else f"{Decimal(minutes) / 60:f}".rstrip("0").rstrip(".")


def level_values(levels: list[dict[str, Any]]) -> dict[str, str]:
    """A contract's service levels as the form's fields (hours)."""
    return {
        f"{field}_{level['urgency']}": _hours(level.get(api))
        for level in levels
        for field, (api, _, _) in LEVEL_FIELDS.items()
    }


def draft_body(form: dict[str, str]) -> dict[str, Any]:
    """POST /contracts: a registered customer's draft; the service levels typed in, the API's
    defaults for the urgencies left blank."""
    no = text_field(form, "contract_no", 64, "合同编号", required=True)
    if not CONTRACT_NO.fullmatch(no):
        raise FormError("合同编号只能用字母、数字、-、_ 和 /")
    customer_id = text_field(form, "customer_id", 64, "客户编号", required=True)
    body: dict[str, Any] = {
        "contract_no": no,
        "customer_id": customer_id,
        "products": products(product_rows(form)),
        "terms": {"term_months": _term_months(form)},
    }
    for name, label in (("dealer_id", "经销商编号"), ("sales_rep", "销售负责人")):
        value = text_field(form, name, 64, label)
        if value:
            body[name] = value
    levels = service_levels(form)
    if levels:
        body["service_levels"] = levels
    return body


def edit_body(form: dict[str, str], current: dict[str, Any]) -> dict[str, Any]:
    """PATCH /contracts/{no}: products, term, dealer, sales rep; the other terms kept as they
    are (the API replaces the terms whole)."""
    terms = {k: v for k, v in (current.get("terms") or {}).items() if v is not None}
    body: dict[str, Any] = {
        "products": products(product_rows(form)),
        "terms": terms | {"term_months": _term_months(form)},
    }
    for name, label in (("dealer_id", "经销商编号"), ("sales_rep", "销售负责人")):
        value = text_field(form, name, 64, label)
        if value != (current.get(name) or ""):
            body[name] = value or None
    levels = service_levels(form)
    if levels is not None:  # a row left blank keeps the draft's (the API would put its default)
        typed = {lv["urgency"] for lv in levels}
        kept = [lv for lv in current.get("service_levels") or [] if lv["urgency"] not in typed]
        body["service_levels"] = [*levels, *kept]
    return body


def draft_values(contract: dict[str, Any]) -> dict[str, Any]:
    """An existing draft as the form's values (its products and one blank row more)."""
    values: dict[str, Any] = {
        "contract_no": contract["contract_no"],
        "customer_id": contract["customer_id"],
        "dealer_id": contract.get("dealer_id") or "",
        "sales_rep": contract.get("sales_rep") or "",
        "term_months": str((contract.get("terms") or {}).get("term_months", 12)),
        **level_values(contract.get("service_levels") or []),
    }
    rows = [
        {
            "model": p["model"],
            "serial_no": p["serial_no"],
            "warranty_end": str(p["warranty_end"]),
            "batch_no": p.get("batch_no") or "",
        }
        for p in contract.get("products", [])
    ]
    return values | {"rows": with_blank_rows(rows, 1)}


def with_blank_rows(rows: list[dict[str, str]], extra: int) -> list[dict[str, str]]:
    blank = {"model": "", "serial_no": "", "warranty_end": "", "batch_no": ""}
    return [*rows, *(dict(blank) for _ in range(max(extra, PRODUCT_ROWS - len(rows))))]


def _moment(value: str, label: str, tz: ZoneInfo) -> str:
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise FormError(f"{label}请填写日期和时间，如 2026-11-30 14:00") from None
    return (at if at.tzinfo else at.replace(tzinfo=tz)).isoformat()


def sign_body(form: dict[str, str], tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """POST /contracts/{no}/sign: the signed document's SHA-256 and both parties' signatures
    (a time without a zone is the business time zone's; none given: the moment it is sent)."""
    sha = text_field(form, "document_sha256", 64, "合同文本 SHA-256", required=True).lower()
    signatures = []
    for party, who in PARTIES.items():
        method = form.get(f"{party}_method") or ""
        if method not in SIGN_METHODS:
            raise FormError(f"请选择{who}的签署方式（盖章或电子签名）")
        signatures.append(
            {
                "party": party,
                "signer": text_field(form, f"{party}_signer", 100, f"{who}签署人", required=True),
                "signed_at": _moment(
                    text_field(form, f"{party}_at", 40, f"{who}签署时间"), f"{who}签署时间", tz
                )
                or now.isoformat(),
                "method": method,
            }
        )
    return {"document_sha256": sha, "signatures": signatures}


def archive_body(form: dict[str, str]) -> dict[str, Any]:
    """POST /contracts/{no}/archive: the originals filed (a box ticked each) and where."""
    chosen = [i for i in ARCHIVE_ITEMS if form.get(f"item_{i}")]
    if not chosen:
        raise FormError("请勾选归档的资料（至少一项）")
    location = text_field(form, "location", 200, "存放位置")
    return {"items": chosen} | ({"location": location} if location else {})


def amend_body(form: dict[str, str]) -> dict[str, Any]:
    return {"reason": text_field(form, "reason", 2000, "变更原因", required=True)}


def actions(contract: dict[str, Any], roles: Any) -> list[str]:
    """What sales may do next with this contract (none for another role)."""
    if "admin" not in roles and not any(r in roles for r in SALES):
        return []
    return {
        "draft": ["edit", "submit"],
        "approved": ["sign"],
        "signed": ["archive", "amend"],
        "archived": ["amend"],
    }.get(contract.get("status", ""), [])
