"""The notification recipients and the duty rota as the admin page edits them (notifications owns
both: `POST/PATCH /recipients`, `POST/DELETE /duty-shifts`): forms turned into the API's bodies,
groups and their members, the shifts that still matter. No web code (http/rota.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .forms import FormError, text_field

# notifications' WRITERS (the admin passes every guard)
EDITORS = ("service_supervisor", "manager")
GROUP = re.compile(r"^[a-z_]{2,40}$")
RECIPIENT_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,100}$")
CHANNELS = {"sms": "短信", "email": "邮件", "wechat": "微信"}


def groups(raw: str) -> list[str]:
    """Groups typed as `service_supervisor, manager` (lower-case letters and _)."""
    found = [g for g in re.split(r"[\s,，、;；]+", raw or "") if g]
    bad = [g for g in found if not GROUP.fullmatch(g)]
    if bad:
        raise FormError(
            f"组名只能用小写字母和下划线（2–40 个），例如 service_supervisor：{'、'.join(bad)}"
        )
    return sorted(set(found))


def _channels(form: dict[str, str]) -> list[str]:
    chosen = [c for c in CHANNELS if form.get(f"channel_{c}") == "on"]
    if not chosen:
        raise FormError("请至少选择一个通知渠道（短信、邮件或微信）")
    return chosen


def new_recipient(form: dict[str, str]) -> dict[str, Any]:
    rid = text_field(form, "id", 100, "账号", required=True)
    if not RECIPIENT_ID.fullmatch(rid):
        raise FormError("账号只能用字母、数字和 _ . : @ -，例如 sup-li")
    body: dict[str, Any] = {
        "id": rid,
        "name": text_field(form, "name", 100, "姓名", required=True),
        "groups": groups(form.get("groups", "")),
        "channels": _channels(form),
    }
    for field, label, limit in (("phone", "手机号", 32), ("email", "邮箱", 254)):
        value = text_field(form, field, limit, label)
        if value:
            body[field] = value
    return body


def recipient_patch(form: dict[str, str]) -> dict[str, Any]:
    """Only what the edit form holds: name, phone, email (empty clears), groups, channels,
    active."""
    body: dict[str, Any] = {
        "name": text_field(form, "name", 100, "姓名", required=True),
        "groups": groups(form.get("groups", "")),
        "channels": _channels(form),
        "active": form.get("active") == "on",
    }
    for field, label, limit in (("phone", "手机号", 32), ("email", "邮箱", 254)):
        body[field] = text_field(form, field, limit, label) or None
    return body


def _moment(raw: str, label: str, tz: ZoneInfo) -> datetime:
    try:
        at = datetime.fromisoformat((raw or "").strip())
    except ValueError as exc:
        raise FormError(f"{label}格式不对，例如 2026-11-30T18:00") from exc
    return at.replace(tzinfo=tz) if at.tzinfo is None else at


def shift(form: dict[str, str], tz: ZoneInfo) -> dict[str, Any]:
    """A shift from the form, its times read as business-time (Beijing) wall clock."""
    group = (form.get("group") or "").strip()
    if not GROUP.fullmatch(group):
        raise FormError("请选择或填写值班组（小写字母和下划线，例如 service_supervisor）")
    rid = (form.get("recipient_id") or "").strip()
    if not RECIPIENT_ID.fullmatch(rid):
        raise FormError("请选择值班人")
    starts = _moment(form.get("starts_at", ""), "开始时间", tz)
    ends = _moment(form.get("ends_at", ""), "结束时间", tz)
    if ends <= starts:
        raise FormError("结束时间须晚于开始时间")
    body: dict[str, Any] = {
        "group": group,
        "recipient_id": rid,
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
    }
    note = text_field(form, "note", 200, "备注")
    if note:
        body["note"] = note
    return body


def members(recipients: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each group with its members, groups in name order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in recipients:
        for g in r.get("groups") or []:
            out.setdefault(g, []).append(r)
    return dict(sorted(out.items()))


def current_shifts(
    shifts: list[dict[str, Any]], now: datetime, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """The shifts not yet over, on now first, each with Beijing wall-clock labels."""
    out = []
    for s in shifts:
        starts = datetime.fromisoformat(str(s["starts_at"]).replace("Z", "+00:00"))
        ends = datetime.fromisoformat(str(s["ends_at"]).replace("Z", "+00:00"))
        if ends <= now:
            continue
        out.append(
            s
            | {
                "from_label": starts.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "to_label": ends.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "on_now": starts <= now < ends,
            }
        )
    return sorted(out, key=lambda s: (not s["on_now"], s["starts_at"]))
