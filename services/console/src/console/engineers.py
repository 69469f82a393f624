"""The engineer roster as the admin page shows and edits it (tickets owns it: `GET/POST
/engineers`, `PATCH /engineers/{sub}`, `POST /engineers/{sub}/leave`, the Excel import and
export): the page's filters read and checked, its forms turned into the API's bodies, each row's
state in words. No web code (http/engineers.py); the tickets API checks everything again and its
refusals are shown in its own words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from .forms import FormError, text_field

# who sees the page (the admin passes every check) and who changes the roster (tickets' KEEP)
READERS = ("service_supervisor", "manager")
KEEPERS = ("service_supervisor",)
SUB = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:|+-]{0,99}$")
CHOICES = {"": "全部", "yes": "是", "no": "否"}
MAX_IMPORT_BYTES = 1024 * 1024  # tickets' own limit: a larger file is refused here first


class BadFilter(ValueError):
    """A filter the page cannot use (zh-CN)."""


@dataclass(frozen=True)
class Filters:
    q: str = ""
    region: str = ""
    active: str = ""  # "" | yes | no
    available: str = ""
    page: int = 1

    def query(self, size: int) -> dict[str, Any]:
        """The tickets API's parameters: the whole roster, one more than a page (is there a
        next one?)."""
        out: dict[str, Any] = {
            "include_inactive": "true",
            "limit": size + 1,
            "offset": (self.page - 1) * size,
        }
        if self.q:
            out["q"] = self.q
        if self.region:
            out["region"] = self.region
        for key in ("active", "available"):
            if getattr(self, key):
                out[key] = "true" if getattr(self, key) == "yes" else "false"
        return out

    def link(self, **changed: Any) -> str:
        """This page's address with some filters changed (empty ones left out)."""
        values = {**vars(self), **changed}
        kept = {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}
        return "/admin/engineers" + (f"?{urlencode(kept)}" if kept else "")


def filters(raw: dict[str, str]) -> Filters:
    q, region = (raw.get("q") or "").strip(), (raw.get("region") or "").strip()
    if len(q) > 60:
        raise BadFilter("搜索词最多 60 个字")
    if len(region) > 100:
        raise BadFilter("区域最多 100 个字")
    active, available = raw.get("active") or "", raw.get("available") or ""
    if active not in CHOICES or available not in CHOICES:
        raise BadFilter("在职、可派工只能选 全部、是 或 否")
    page = (raw.get("page") or "1").strip()
    if not page.isdigit() or not 1 <= int(page) <= 10_000:
        raise BadFilter("页码须为 1–10000 的整数")
    return Filters(q, region, active, available, int(page))


def sub_of(raw: str) -> str:
    sub = (raw or "").strip()
    if not SUB.fullmatch(sub):
        raise FormError("工程师账号格式不对")
    return sub


def _skills(form: dict[str, str]) -> list[str]:
    text = text_field(form, "skills", 400, "技能/产品线")
    return [s.strip() for s in re.split(r"[,，、;；]", text) if s.strip()]


def new_engineer(form: dict[str, str]) -> dict[str, Any]:
    return {
        "id": text_field(form, "id", 100, "账号", required=True),
        "name": text_field(form, "name", 100, "姓名", required=True),
        "region": text_field(form, "region", 100, "区域"),
        "phone": text_field(form, "phone", 30, "手机号"),
        "skills": _skills(form),
    }


def engineer_patch(form: dict[str, str]) -> dict[str, Any]:
    """What the edit form holds: name, region, phone, skills (an emptied field clears it)."""
    return {
        "name": text_field(form, "name", 100, "姓名", required=True),
        "region": text_field(form, "region", 100, "区域"),
        "phone": text_field(form, "phone", 30, "手机号"),
        "skills": _skills(form),
    }


def leave(form: dict[str, str]) -> dict[str, Any]:
    """On leave until a day (empty: until further notice), or back."""
    if form.get("on_leave") != "yes":
        return {"on_leave": False}
    raw = (form.get("until") or "").strip()
    if not raw:
        return {"on_leave": True, "until": None}
    try:
        return {"on_leave": True, "until": date.fromisoformat(raw).isoformat()}
    except ValueError as exc:
        raise FormError("休假截止日期格式不对，例如 2026-12-04") from exc


def state(e: dict[str, Any]) -> tuple[str, str]:
    """The row's state in words and its tag's class."""
    if not e.get("active", True):
        return "停用", "off"
    if e.get("on_leave"):
        until = e.get("leave_until")
        return (f"休假至 {until}" if until else "休假（未定归期）"), "watch"
    return "可派工", "ok"
