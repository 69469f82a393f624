"""The engineer roster's rules (issue #21), pure: what an engineer's record may hold, when one on
leave is back, what an edit changed. No database, no HTTP: the API, the Excel import and the seed
share them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_shared.errors import DomainError

from .domain import mobile

# the IdP subject (`sub`) an engineer's token carries: what an assignment stores
SUB_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@:|+-]{0,99}$"
NAME_MAX, REGION_MAX, SKILL_MAX, SKILLS_MAX = 50, 50, 30, 20
FIELDS_ZH = {
    "name": "姓名",
    "region": "区域",
    "phone": "手机号",
    "skills": "技能/产品线",
    "active": "在职",
    "on_leave": "休假",
    "leave_until": "休假至",
}


@dataclass(frozen=True)
class EngineerData:
    """One engineer's record as checked: the subject, name, region, phone, skills."""

    id: str
    name: str
    region: str = ""
    phone: str = ""
    skills: list[str] = field(default_factory=list)


def check_sub(value: str) -> str:
    sub = (value or "").strip()
    if not re.fullmatch(SUB_PATTERN, sub):
        raise DomainError(
            f"工程师账号“{sub[:40]}”不对：须为登录账号（sub），1–100 个字母、数字或 ._@:|+- "
            "(the engineer's id is the sub of their token)"
        )
    return sub


def _clean(value: str | None, what: str) -> str:
    """Spaces collapsed; a control character (a NUL from a spreadsheet cell) refused."""
    text = " ".join((value or "").split())
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise DomainError(f"{what}含有控制字符，请重新输入 ({what}: a control character)")
    return text


def check_name(value: str) -> str:
    name = _clean(value, "姓名")
    if not 1 <= len(name) <= NAME_MAX:
        raise DomainError(f"姓名须为 1–{NAME_MAX} 个字 (a name of 1–{NAME_MAX} characters)")
    return name


def check_region(value: str | None) -> str:
    region = _clean(value, "区域")
    if len(region) > REGION_MAX:
        raise DomainError(f"区域最多 {REGION_MAX} 个字 (region: {REGION_MAX} at most)")
    return region


def check_phone(value: str | None) -> str:
    """The 11 digits of a mainland mobile number; empty when none is given."""
    text = (value or "").strip()
    if not text:
        return ""
    digits = mobile(text)
    if digits is None:
        raise DomainError(
            f"手机号“{text[:20]}”不是有效的中国大陆手机号（11 位，以 13–19 开头） "
            "(a mainland mobile number)"
        )
    return digits


def check_skills(values: list[str] | str | None) -> list[str]:
    """Skills or product lines, each once, in the order given ('、', '，' or ',' between them)."""
    if isinstance(values, str):
        values = re.split(r"[,，、;；]", values)
    out: list[str] = []
    for raw in values or []:
        skill = _clean(str(raw), "技能")
        if not skill or skill in out:
            continue
        if len(skill) > SKILL_MAX:
            raise DomainError(f"技能“{skill[:20]}…”超过 {SKILL_MAX} 个字 (a skill is too long)")
        out.append(skill)
    if len(out) > SKILLS_MAX:
        raise DomainError(f"技能/产品线最多 {SKILLS_MAX} 项 (at most {SKILLS_MAX} skills)")
    return out


def check(
    sub: str, name: str, region: str | None, phone: str | None, skills: Any = None
) -> EngineerData:
    return EngineerData(
        id=check_sub(sub),
        name=check_name(name),
        region=check_region(region),
        phone=check_phone(phone),
        skills=check_skills(skills),
    )


CHECKS = {
    "name": check_name,
    "region": check_region,
    "phone": check_phone,
    "skills": check_skills,
    "active": bool,
}


def check_patch(values: dict[str, Any]) -> dict[str, Any]:
    """The fields an edit may change, each checked (the subject never changes: assignments
    store it)."""
    return {k: CHECKS[k](v) for k, v in values.items() if k in CHECKS}


def local_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def on_leave_at(on_leave: bool, leave_until: date | None, now: datetime, tz: ZoneInfo) -> bool:
    """On leave at `now`: leave with no end, or its last day (in the business time zone) not yet
    past."""
    return on_leave and (leave_until is None or local_day(now, tz) <= leave_until)


def available_at(
    active: bool, on_leave: bool, leave_until: date | None, now: datetime, tz: ZoneInfo
) -> bool:
    """Offered by the picker and dispatchable: active and not on leave at `now`."""
    return active and not on_leave_at(on_leave, leave_until, now, tz)


def check_leave(on_leave: bool, until: date | None, now: datetime, tz: ZoneInfo) -> date | None:
    """The leave's last day (None: until further notice); a day already past is refused."""
    if not on_leave:
        return None
    if until is not None and until < local_day(now, tz):
        raise DomainError(
            f"休假截止日期 {until.isoformat()} 已过，请填写今天或以后的日期 "
            "(the last day of leave is in the past)"
        )
    return until


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """What an edit changed: field → [before, after], only the fields that differ."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
