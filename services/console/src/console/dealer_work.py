"""A dealer's day's writes from the portal's forms: a unit sold, a repair record opened, arranged
and completed, old parts shipped back. Each form becomes the dealers API's body; only what a
person can fix at once is checked here (required fields, lengths, a number's or a date's shape) —
the rules (a sale dated ahead of today, a serial sold already, the user not told, a record not the
dealer's) are the API's, said in its words. Dates and times are entered in the business time zone.
No web code."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .forms import FormError, text_field

PART_ROWS = 5  # part rows on the completion form (a phone's few rows; more: a second record)
MONEY = re.compile(r"^\d{1,10}(\.\d{1,2})?$")  # the dealers API: 12 digits, 2 after the point
KINDS = {"warranty": "三包维修", "paid": "有偿服务"}
METHODS = {"signature": "签字", "phone": "电话", "sms": "短信", "online": "线上"}
RECORD_FIELD = "record:"  # a shipment's checkbox per repair record: record:<id>
CARRIER_MAX, WAYBILL_MAX = 100, 64


def _date(form: dict[str, str], name: str, label: str, required: bool = False) -> str | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            raise FormError(f"请填写{label}")
        return None
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError as exc:
        raise FormError(f"{label}格式不对，例如 2026-11-30") from exc


def _moment(
    form: dict[str, str], name: str, label: str, tz: ZoneInfo, now: datetime | None = None
) -> str:
    """A datetime-local field read in the business time zone, sent with its offset; empty is
    `now` when given (the moment the form is sent), else refused."""
    raw = (form.get(name) or "").strip()
    if not raw and now is not None:
        return now.astimezone(tz).isoformat()
    if not raw:
        raise FormError(f"请填写{label}")
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise FormError(f"{label}格式不对，例如 2026-11-30 10:15") from exc
    return (at.replace(tzinfo=tz) if at.tzinfo is None else at).isoformat()


def _money(form: dict[str, str], name: str, label: str) -> str:
    raw = (form.get(name) or "").strip().replace(",", "") or "0"
    if not MONEY.fullmatch(raw):
        raise FormError(f"{label}须为元，最多两位小数，例如 80 或 80.50")
    return str(Decimal(raw).quantize(Decimal("0.01")))


def _choice(form: dict[str, str], name: str, choices: dict[str, str], label: str) -> str:
    value = (form.get(name) or "").strip()
    if value not in choices:
        raise FormError(f"请选择{label}（{'、'.join(choices.values())}）")
    return value


def sale(form: dict[str, str]) -> dict[str, Any]:
    """POST /units: the unit the dealer sold (its card's 20 days start at the sale date)."""
    body: dict[str, Any] = {
        "serial_no": text_field(form, "serial_no", 100, "序列号", required=True),
        "model": text_field(form, "model", 100, "型号", required=True),
        "sale_date": _date(form, "sale_date", "销售日期", required=True),
        "customer_name": text_field(form, "customer_name", 200, "用户名称", required=True),
    }
    end = _date(form, "warranty_end", "保修截止日")
    contract = text_field(form, "contract_no", 64, "合同号")
    return (
        body
        | ({"warranty_end": end} if end else {})
        | ({"contract_no": contract} if contract else {})
    )


def repair(form: dict[str, str]) -> dict[str, Any]:
    """POST /repair-records: a service request for one of the dealer's units."""
    body: dict[str, Any] = {
        "serial_no": text_field(form, "serial_no", 100, "序列号", required=True),
        "kind": _choice(form, "kind", KINDS, "服务类别"),
    }
    ticket = text_field(form, "ticket_no", 64, "工单号")
    fault = text_field(form, "fault_description", 4000, "故障描述", required=True)
    if len(fault) < 2:
        raise FormError("故障描述至少 2 个字")
    return body | ({"ticket_no": ticket} if ticket else {}) | {"fault_description": fault}


def arrangement(form: dict[str, str], tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """POST /repair-records/{id}/arrange: who goes when; the user told, technical informed."""
    return {
        "engineer": text_field(form, "engineer", 100, "服务工程师", required=True),
        "appointment_at": _moment(form, "appointment_at", "预约上门时间", tz),
        "user_informed": form.get("user_informed") == "on",
        "reported_to_technical": form.get("reported_to_technical") == "on",
    }


def _part(form: dict[str, str], n: int) -> dict[str, Any] | None:
    """Row n of the parts (1-based); an empty row is skipped, a half-filled one refused."""
    raw = {k: (form.get(f"{k}_{n}") or "").strip() for k in ("part_no", "name", "qty", "cost")}
    if not any(raw.values()):
        return None
    if not all(raw.values()):
        raise FormError(f"备件第{n}行：请填写零件号、名称、数量和单价")
    if len(raw["part_no"]) > 64 or len(raw["name"]) > 200:
        raise FormError(f"备件第{n}行：零件号最多 64 字，名称最多 200 字")
    if not (raw["qty"].isdecimal() and len(raw["qty"]) <= 5 and 1 <= int(raw["qty"]) <= 10_000):
        raise FormError(f"备件第{n}行：数量应为 1–10,000 的整数")
    cost = _money({"c": raw["cost"]}, "c", f"备件第{n}行单价")
    return {
        "part_no": raw["part_no"],
        "name": raw["name"],
        "quantity": int(raw["qty"]),
        "unit_cost": cost,
    }


def completion(form: dict[str, str], tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """POST /repair-records/{id}/complete: what was done, parts, fees, the user's confirmation
    (its time empty: now)."""
    done = text_field(form, "repair_description", 4000, "维修说明", required=True)
    if len(done) < 2:
        raise FormError("维修说明至少 2 个字")
    parts = [p for n in range(1, PART_ROWS + 1) if (p := _part(form, n)) is not None]
    return {
        "repair_description": done,
        "parts": parts,
        "labour_fee": _money(form, "labour_fee", "工时费"),
        "travel_fee": _money(form, "travel_fee", "差旅费"),
        "confirmation": {
            "confirmed_by": text_field(form, "confirmed_by", 100, "确认人", required=True),
            "confirmed_at": _moment(form, "confirmed_at", "用户确认时间", tz, now),
            "method": _choice(form, "method", METHODS, "确认方式"),
        },
    }


def shipment(form: dict[str, str]) -> dict[str, Any]:
    """POST /part-shipments: the repair records whose owed parts go back, carrier, waybill."""
    ids = [k[len(RECORD_FIELD) :] for k, v in form.items() if k.startswith(RECORD_FIELD) and v]
    if not ids:
        raise FormError("请勾选要寄回旧件的维修记录")
    if len(ids) > 500:
        raise FormError("一次最多寄回 500 条维修记录的旧件")
    carrier = text_field(form, "carrier", CARRIER_MAX, "承运方", required=True)
    waybill = text_field(form, "waybill", WAYBILL_MAX, "运单号", required=True)
    return {"record_ids": ids, "carrier": carrier, "truck_ref": waybill}


def chosen(form: dict[str, str]) -> set[str]:
    """The records ticked on a refused shipment form (to keep them ticked)."""
    return {k[len(RECORD_FIELD) :] for k, v in form.items() if k.startswith(RECORD_FIELD) and v}
