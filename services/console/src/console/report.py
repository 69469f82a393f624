"""The monthly report as a page: the reports service's data (`GET /reports/monthly/{month}`) turned
into key figures, sections and tables, every figure that names its tickets (`figure`) linked to the
console's list of those tickets (`GET /reports/monthly/{month}/tickets?figure=…`). No web code here.

The sections are read as the reports API gives them, not from a copy of its tables: a figure the
service adds shows up here under its own key (labels below for the known ones)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
FILTERS = ("product_line", "region", "dealer_id")
FILTER_VALUE = re.compile(r"^[\w\-. \u3400-\u9fff]{0,60}$")
FORMATS = {"pdf": "PDF (A4)", "xlsx": "Excel (XLSX)", "csv": "CSV"}
READERS = ("manager", "service_supervisor")  # and admin (SessionUser.has)

SECTIONS = {
    "volume": "工单量 Ticket volume",
    "failures": "故障率 Failures per 1,000 units",
    "pareto": "故障归因 Causes and failed parts",
    "complaints": "投诉 Complaints",
    "sla": "SLA 达标 SLA compliance",
    "times": "处理时间（工作时间）Handling times (working time)",
    "backlog": "月末积压 Backlog at month end",
    "engineers": "工程师 Engineers",
    "dealers": "经销商三包 Dealers",
    "satisfaction": "满意度 Satisfaction",
    "return_visits": "回访 Return visits",
    "training_follow_ups": "培训回访 Training follow-ups",
    "corrective_actions": "纠正措施 Corrective actions",
    "changes": "环比与同比 Month over month, year over year",
}
NOT_SECTIONS = {"month", "timezone", "filters", "generated_at", "definitions"}
LABELS = {
    "total": "合计",
    "key": "类别",
    "count": "数量",
    "by_channel": "按渠道",
    "by_type": "按类型",
    "by_urgency": "按紧急度",
    "by_level": "按等级",
    "by_model": "按型号",
    "by_batch": "按批次",
    "by_clock": "按计时",
    "by_clock_urgency": "按计时与紧急度",
    "abnormal_batches": "异常批次",
    "abnormal_rule": "异常判定",
    "failures": "故障数",
    "units_in_service": "在用台数",
    "units": "在用台数",
    "per_thousand": "每千台故障",
    "model_per_thousand": "型号每千台",
    "upper_limit_per_thousand": "控制上限（每千台）",
    "abnormal": "异常",
    "model": "型号",
    "batch_no": "批次",
    "basis": "口径",
    "causes": "原因",
    "failed_parts": "失效部件",
    "awaiting_analysis": "待分析",
    "steps_overdue": "步骤超期",
    "escalated": "升级",
    "clock": "计时",
    "urgency": "紧急度",
    "tickets": "工单数",
    "breached": "超时",
    "compliance": "达标率",
    "warnings": "预警",
    "escalations": "升级提醒",
    "completed_within_sla": "时限内完成",
    "calendar": "工作日历",
    "response": "响应",
    "resolution": "解决",
    "median_minutes": "中位数（分钟）",
    "p90_minutes": "P90（分钟）",
    "open_at_month_end": "月末未结",
    "ageing": "账龄",
    "bucket": "账龄",
    "dealer_id": "经销商",
    "name": "名称",
    "region": "区域",
    "cards_registered": "登记保修卡",
    "cards_on_time": "按时登记",
    "cards_not_recognised": "未认可",
    "cards_overdue": "逾期未登记",
    "cards_on_time_rate": "按时率",
    "parts_return_overdue": "旧件逾期",
    "warranty_service_overdue": "三包服务逾期",
    "deductions": "扣款单",
    "deduction_amount": "扣款金额（元）",
    "engineer_id": "工程师",
    "answers": "答卷",
    "low_scores": "低分",
    "efficiency": "效率",
    "attitude": "态度",
    "professionalism": "专业性",
    "overall": "总体",
    "previous_month": "上月",
    "change": "变化",
    "month": "月份",
    "share": "占比",
    "cumulative_share": "累计占比",
    "first_time_fix": "一次修复",
    "recorded": "已记录",
    "reached": "已联系",
    "problem_persists": "问题仍在",
    "unreachable": "联系不上",
    "on_time": "按时率",
    "overdue": "逾期",
    "mastered": "已掌握",
    "needs_retraining": "需再培训",
    "opened": "新建",
    "done": "已完成",
    "verified": "已验证",
    "rejected": "驳回",
    "by_department": "按部门",
    "department": "部门",
    "items": "明细",
    "current": "本月",
    "previous_year": "去年同月",
    "volume": "工单量",
    "failures_per_thousand": "每千台故障",
}
CODES = {
    "normal": "一般",
    "urgent": "紧急",
    "critical": "特急",
    "acknowledge": "受理",
    "response": "响应",
    "onsite": "到场",
    "resolution": "解决",
    "quality_issue": "质量问题",
    "usage_question": "使用咨询",
    "return_exchange": "退换货",
    "installation": "安装",
    "maintenance": "保养",
    "complaint": "投诉",
    "phone": "电话",
    "web": "网页",
    "wechat": "微信",
    "partner": "合作方",
    "general": "一般",
    "major": "重大",
    "serious": "严重",
}
CODE_KEYS = {"key", "clock", "urgency"}
PERCENT = re.compile(r"(compliance|_rate|share|first_time_fix|^on_time)$")
# where a row's link goes: the cell that is the figure's count
COUNT_KEYS = ("count", "failures", "tickets")


@dataclass
class Cell:
    text: str
    link: str | None = None
    number: bool = False


@dataclass
class Grid:
    title: str
    columns: list[str]
    rows: list[list[Cell]]


@dataclass
class Section:
    key: str
    title: str
    figures: list[tuple[str, Cell]] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)


@dataclass
class ReportPage:
    month: str
    previous: str
    next: str
    filters: dict[str, str]
    key_figures: list[tuple[str, Cell]]
    sections: list[Section]
    definitions: dict[str, str]
    generated_at: str

    def link(self, path: str = "", **extra: str) -> str:
        query = {k: v for k, v in self.filters.items() if v} | extra
        return f"/reports/{self.month}{path}" + (f"?{urlencode(query)}" if query else "")


def label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float) and PERCENT.search(key) and 0 <= value <= 1:
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:g}"
    if key in CODE_KEYS and isinstance(value, str):
        return CODES.get(value, value)
    if isinstance(value, list):
        return "、".join(shown(key, v) for v in value) or "—"
    return str(value)


def month_shift(month: str, by: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + mon - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def current_month(today: date) -> str:
    return f"{today.year:04d}-{today.month:02d}"


def parse_filters(params: dict[str, str]) -> dict[str, str] | None:
    values = {f: (params.get(f) or "").strip() for f in FILTERS}
    if not all(FILTER_VALUE.fullmatch(v) for v in values.values()):
        return None
    return values


def build(data: dict[str, Any], month: str, filters: dict[str, str]) -> ReportPage:
    page = ReportPage(
        month=month,
        previous=month_shift(month, -1),
        next=month_shift(month, 1),
        filters=filters,
        key_figures=[],
        sections=[],
        definitions={k: str(v) for k, v in (data.get("definitions") or {}).items()},
        generated_at=str(data.get("generated_at") or "")[:16].replace("T", " "),
    )

    def drill(figure: Any) -> str | None:
        return page.link("/tickets", figure=figure) if isinstance(figure, str) else None

    keys = [k for k in SECTIONS if k in data] + [
        k for k in data if k not in SECTIONS and k not in NOT_SECTIONS
    ]
    for key in keys:
        section = Section(key, SECTIONS.get(key, label(key)))
        _fill(section, data[key], "", drill)
        page.sections.append(section)
    page.key_figures = _key_figures(data, drill)
    return page


def _fill(section: Section, value: Any, prefix: str, drill: Any) -> None:
    if isinstance(value, list):
        section.grids.append(_grid(prefix or "明细", value, drill))
        return
    if not isinstance(value, dict):
        section.figures.append((prefix or section.title, Cell(shown("", value))))
        return
    for key, item in value.items():
        if key.startswith("figure"):
            continue
        name = f"{prefix} · {label(key)}" if prefix else label(key)
        if isinstance(item, dict | list):
            _fill(section, item, name, drill)
            continue
        # the section's own figure links its total; figure_<name> links <name>
        figure = value.get(f"figure_{key}")
        if figure is None and "figure" in value and isinstance(item, int | float):
            if key in ("total", "failures", "open_at_month_end") or key in COUNT_KEYS:
                figure = value["figure"]
        section.figures.append(
            (name, Cell(shown(key, item), drill(figure), isinstance(item, int | float)))
        )


def _grid(title: str, rows: list[Any], drill: Any) -> Grid:
    dicts = [r for r in rows if isinstance(r, dict)]
    if not dicts:
        return Grid(title, [title], [[Cell(shown("", r))] for r in rows])
    keys: list[str] = []
    for r in dicts:
        keys += [k for k in r if not k.startswith("figure") and k not in keys]
    out = []
    for r in dicts:
        figure = r.get("figure")
        target = "breached" if str(figure).startswith("sla_breached") else None
        target = target or next((k for k in COUNT_KEYS if k in r), keys[0] if keys else None)
        out.append(
            [
                Cell(
                    shown(k, r.get(k)),
                    drill(figure) if k == target else None,
                    isinstance(r.get(k), int | float) and not isinstance(r.get(k), bool),
                )
                for k in keys
            ]
        )
    return Grid(title, [label(k) for k in keys], out)


def _key_figures(data: dict[str, Any], drill: Any) -> list[tuple[str, Cell]]:
    out: list[tuple[str, Cell]] = []
    volume, failures = data.get("volume") or {}, data.get("failures") or {}
    complaints, backlog = data.get("complaints") or {}, data.get("backlog") or {}
    if "total" in volume:
        out.append(
            ("工单总数 Tickets", Cell(shown("", volume["total"]), drill(volume.get("figure"))))
        )
    if "failures" in failures:
        per = shown("", failures.get("per_thousand"))
        out.append(
            (
                "故障 Failures",
                Cell(f"{failures['failures']}（每千台 {per}）", drill(failures.get("figure"))),
            )
        )
    resolution = next(
        (c for c in (data.get("sla") or {}).get("by_clock", []) if c.get("clock") == "resolution"),
        None,
    )
    if resolution is not None:
        out.append(
            (
                "解决时限达标率 Resolution SLA",
                Cell(
                    f"{shown('compliance', resolution.get('compliance'))}（超时 "
                    f"{resolution.get('breached', 0)}）",
                    drill(resolution.get("figure")),
                ),
            )
        )
    if "total" in complaints:
        out.append(
            (
                "投诉 Complaints",
                Cell(shown("", complaints["total"]), drill(complaints.get("figure"))),
            )
        )
    if "open_at_month_end" in backlog:
        out.append(
            (
                "月末未结 Open at month end",
                Cell(shown("", backlog["open_at_month_end"]), drill(backlog.get("figure"))),
            )
        )
    overall = (data.get("satisfaction") or {}).get("overall")
    out.append(("满意度 Satisfaction", Cell(shown("", overall))))
    return out


TICKET_COLUMNS = (
    ("ticket_no", "工单 Ticket"),
    ("opened_at", "受理时间 Opened"),
    ("request_type", "类型 Type"),
    ("urgency", "紧急 Urgency"),
    ("product_model", "型号 Model"),
    ("batch_no", "批次 Batch"),
    ("dealer_id", "经销商 Dealer"),
    ("engineer_id", "工程师 Engineer"),
    ("cause_category", "原因 Cause"),
)
