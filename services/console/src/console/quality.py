"""The technical department's fault analysis as the console shows it (故障分析): the list of
classified tickets with its tabs (待分析, 已逾期, 全部) and filters read and checked, each row in
zh-CN words with the analysis deadline's working time left, and the analysis form turned into the
tickets API's FaultAnalysisIn. No web code (http/quality.py); the tickets API checks everything
again and its refusals are shown in its own words."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aftersales_shared.workcalendar import WorkCalendar

from .board import REQUEST_TYPES
from .countdown import format_overdue, format_working
from .forms import FormError, day_field, text_field
from .people import known_as

# who reads the quality pages (tickets' STAFF) and who analyses and keeps the catalogue
# (tickets' QUALITY_EDITORS); the admin passes every check
READERS = ("technical", "service_supervisor", "manager", "service_agent")
EDITORS = ("technical", "service_supervisor")
TABS = {"todo": "待分析", "overdue": "已逾期", "all": "全部"}
TABS_EN = {"todo": "To analyse", "overdue": "Overdue", "all": "All"}
# the fixed cause categories (tickets' CAUSE_LABELS; the page reads them from the API too)
CAUSES = {
    "design": "设计",
    "material_supplier": "材料/供应商",
    "manufacturing_batch": "制造/批次",
    "transport": "运输",
    "installation": "安装",
    "misuse": "使用不当",
    "wear": "正常磨损",
    "unknown": "未知",
}
VIA = {"completion": "完工时记录", "analysis": "技术部分析", "reclassification": "重新归类"}
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
TICKET_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
LINE = re.compile(r"^[^\s*]{1,40}$")
MAX_PAGE = 10_000


def page_number(params: dict[str, str]) -> int:
    raw = (params.get("page") or "1").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise FormError("页码须为 1–10000 的整数")
    return int(raw)


def code_field(params: dict[str, str], name: str, label: str) -> str:
    value = (params.get(name) or "").strip()
    if value and not CODE.fullmatch(value):
        raise FormError(f"{label}代码只含字母、数字和 - _ .（最多 40 个字符）")
    return value


def line_field(params: dict[str, str], name: str = "product_line") -> str:
    value = (params.get(name) or "").strip()
    if value and not LINE.fullmatch(value):
        raise FormError("产品线不含空格和 *，最多 40 个字符（如 XK）")
    return value


@dataclass(frozen=True)
class FaultQuery:
    """The list's tab and filters; the day range is of business days in the business time zone."""

    tab: str = "todo"
    cause_category: str = ""
    product_line: str = ""
    symptom: str = ""
    failed_part: str = ""
    classified_from: str = ""
    classified_to: str = ""
    page: int = 1

    def api_params(self, size: int, tz: ZoneInfo) -> dict[str, Any]:
        """The tickets API's GET /fault-classifications parameters."""
        out: dict[str, Any] = {"limit": size, "offset": (self.page - 1) * size}
        if self.tab in ("todo", "overdue"):
            out["needs_analysis"] = "true"
        if self.tab == "overdue":
            out["overdue"] = "true"
        for key in ("cause_category", "product_line", "symptom", "failed_part"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.classified_from:
            out["classified_from"] = _midnight(date.fromisoformat(self.classified_from), tz)
        if self.classified_to:
            end = date.fromisoformat(self.classified_to) + timedelta(days=1)
            out["classified_to"] = _midnight(end, tz)
        return out

    def link(self, **changes: Any) -> str:
        values: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        kept = {
            k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)
        }
        return "/quality/faults" + ("?" + urlencode(kept) if kept else "")


def _midnight(day: date, tz: ZoneInfo) -> str:
    return datetime.combine(day, time(0), tz).isoformat()


def parse_query(params: dict[str, str]) -> FaultQuery:
    """The list's query string, or FormError saying what to fix."""
    tab = (params.get("tab") or "todo").strip()
    if tab not in TABS:
        raise FormError("只有 待分析、已逾期、全部 三个标签")
    cause = (params.get("cause_category") or "").strip()
    if cause and cause not in CAUSES:
        raise FormError("原因类别须从列表中选择")
    start = day_field((params.get("classified_from") or "").strip(), "归类起日")
    end = day_field((params.get("classified_to") or "").strip(), "归类止日")
    if start and end and start > end:
        raise FormError("归类起日不能晚于止日")
    return FaultQuery(
        tab=tab,
        cause_category=cause,
        product_line=line_field(params),
        symptom=code_field(params, "symptom", "故障现象"),
        failed_part=code_field(params, "failed_part", "故障部件"),
        classified_from=start,
        classified_to=end,
        page=page_number(params),
    )


def who(sub: Any) -> str:
    return known_as(sub)


def instant(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def local(value: Any, tz: ZoneInfo) -> str:
    at = instant(value)
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""


def deadline(fault: dict[str, Any], calendar: WorkCalendar, now: datetime) -> dict[str, str]:
    """The analysis deadline in words: working time left on the calendar, or how long overdue."""
    due = instant(fault.get("analysis_due_at"))
    if not fault.get("needs_analysis") or due is None:
        return {}
    at = local(due, calendar.tz)
    if now >= due or fault.get("analysis_overdue_at"):
        over = f" {format_overdue(now - due)}" if now > due else ""
        return {"at": at, "band": "risk", "text": f"已逾期{over}", "en": "overdue"}
    left = calendar.working_time_between(now, due)
    band = "watch" if left <= timedelta(hours=8) else "ok"
    return {"at": at, "band": band, "text": f"剩余工作时间 {format_working(left)}", "en": "left"}


def row(
    fault: dict[str, Any], calendar: WorkCalendar, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    """One classification as a row shows it: names from the catalogue, never the raw codes."""
    cause = fault.get("cause_category")
    return fault | {
        "symptom_zh": fault.get("symptom") or fault.get("symptom_code") or "",
        "cause_zh": fault.get("cause_label") or CAUSES.get(cause or "", cause or ""),
        "part_zh": fault.get("failed_part") or fault.get("failed_part_code") or "",
        "type_zh": REQUEST_TYPES.get(fault.get("request_type", ""), fault.get("request_type")),
        "via_zh": VIA.get(fault.get("classified_via") or "", ""),
        "recorded_by_zh": who(fault.get("recorded_by")),
        "classified_by_zh": who(fault.get("classified_by")),
        "classified_label": local(fault.get("classified_at"), tz),
        "recorded_label": local(fault.get("recorded_at"), tz),
        "completed_label": local(fault.get("completed_at"), tz),
        "due": deadline(fault, calendar, now),
    }


def analysis(form: dict[str, str], fault: dict[str, Any]) -> dict[str, Any]:
    """The body of POST /tickets/{no}/fault-analysis from the form: the cause category always;
    a symptom or failed part only when changed (the recorded one is kept otherwise, even if the
    catalogue has since deactivated it); the cause detail when changed."""
    cause = (form.get("cause_category") or "").strip()
    if not cause:
        raise FormError("请选择原因类别")
    if cause not in CAUSES:
        raise FormError("原因类别须从列表中选择")
    body: dict[str, Any] = {"cause_category": cause}
    for name, label, kept in (
        ("symptom", "故障现象", fault.get("symptom_code")),
        ("failed_part", "故障部件", fault.get("failed_part_code")),
    ):
        value = code_field(form, name, label)
        if value and value.upper() != (kept or "").upper():
            body[name] = value
    detail = text_field(form, "cause_detail", 2000, "原因说明")
    if detail != (fault.get("cause_detail") or ""):
        body["cause_detail"] = detail
    return body


def typed(form: dict[str, str]) -> dict[str, str]:
    """What the person typed into the analysis form, to show again after a refusal."""
    names = ("cause_category", "symptom", "failed_part", "cause_detail")
    return {k: (form.get(k) or "")[:2000] for k in names}
