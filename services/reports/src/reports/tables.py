"""The report's sections as tables (title, columns, rows, chart), the one view every format renders:
HTML, CSV, XLSX and PDF show the same figures in the same order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aftersales_shared.events.tickets import COMPLAINT_LEVEL_ZH, COMPLAINT_TYPE_ZH

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
CLOCKS = {"acknowledge": "受理", "response": "响应", "onsite": "到场", "resolution": "解决"}
URGENCY = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
DIMENSIONS = {"efficiency": "效率", "attitude": "态度", "professionalism": "专业性"}
COMPLAINT_TYPES: dict[str, str] = dict(COMPLAINT_TYPE_ZH)
LEVELS: dict[str, str] = dict(COMPLAINT_LEVEL_ZH)


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text | int | number | percent | money


@dataclass
class Table:
    key: str  # sheet and CSV section name (ASCII)
    title: str  # zh-CN (English)
    columns: list[Column]
    rows: list[list[Any]]
    chart: tuple[int, int] | None = None  # (label column, value column) of a bar chart
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def tables(report: dict[str, Any]) -> list[Table]:
    v, f, s = report["volume"], report["failures"], report["sla"]
    out = [
        Table(
            "volume",
            "工单量 (ticket volume)",
            [Column("维度 (by)"), Column("类别 (key)"), Column("数量 (tickets)", "int")],
            [["渠道 channel", r["key"], r["count"]] for r in v["by_channel"]]
            + [["类型 type", r["key"], r["count"]] for r in v["by_type"]]
            + [
                ["紧急度 urgency", URGENCY.get(r["key"], r["key"]), r["count"]]
                for r in v["by_urgency"]
            ],
            chart=(1, 2),
            note=f"合计 {v['total']} 张工单 (total tickets)",
        ),
        Table(
            "failures_by_model",
            "故障率 · 按型号 (failures per 1,000 units, by model)",
            [
                Column("型号 (model)"),
                Column("在用台数 (units)", "int"),
                Column("故障数 (failures)", "int"),
                Column("每千台故障 (per 1,000)", "number"),
            ],
            [[r["model"], r["units"], r["failures"], r["per_thousand"]] for r in f["by_model"]],
            chart=(0, 3),
            note=f"全部：{f['failures']} 次故障 / {f['units_in_service']} 台在用 "
            f"(failures / units in service)",
        ),
        Table(
            "failures_by_batch",
            "故障率 · 按批次 (failures per 1,000 units, by batch)",
            [
                Column("型号 (model)"),
                Column("批次 (batch)"),
                Column("在用台数 (units)", "int"),
                Column("故障数 (failures)", "int"),
                Column("每千台故障 (per 1,000)", "number"),
                Column("控制上限 (upper limit)", "number"),
                Column("异常 (abnormal)"),
            ],
            [
                [
                    r["model"],
                    r["batch_no"],
                    r["units"],
                    r["failures"],
                    r["per_thousand"],
                    r["upper_limit_per_thousand"],
                    "异常 abnormal" if r["abnormal"] else "",
                ]
                for r in f["by_batch"]
            ],
            chart=(1, 4),
            note=f["abnormal_rule"],
        ),
    ]
    c = report["complaints"]
    out.append(
        Table(
            "complaints",
            "投诉类型与等级 (complaint types and levels)",
            [Column("维度 (by)"), Column("类别 (key)"), Column("数量 (complaints)", "int")],
            [
                ["类型 type", COMPLAINT_TYPES.get(r["key"], r["key"]), r["count"]]
                for r in c["by_type"]
            ]
            + [["等级 level", LEVELS.get(r["key"], r["key"]), r["count"]] for r in c["by_level"]],
            chart=(1, 2),
            note=f"投诉 {c['total']} 件，升级 {c['escalated']} 件，"
            f"超时步骤 {c['steps_overdue']} 个 (complaints, escalated, steps overdue)",
        )
    )
    for key, title, rows in (
        ("causes", "故障原因帕累托 (Pareto of causes)", report["pareto"]["causes"]),
        (
            "failed_parts",
            "故障部件帕累托 (Pareto of failed parts)",
            report["pareto"]["failed_parts"],
        ),
    ):
        out.append(
            Table(
                key,
                title,
                [
                    Column("类别 (key)"),
                    Column("数量 (count)", "int"),
                    Column("占比 (share)", "percent"),
                    Column("累计 (cumulative)", "percent"),
                    Column("关键少数 (vital few)"),
                ],
                [
                    [
                        CAUSES.get(r["key"], r["key"]),
                        r["count"],
                        r["share"],
                        r["cumulative"],
                        "是 yes" if r["vital_few"] else "",
                    ]
                    for r in rows
                ],  # fmt: skip
                chart=(0, 1),
            )
        )
    out += [
        Table(
            "sla",
            "SLA 达标率 (SLA compliance per clock)",
            [
                Column("时限 (clock)"),
                Column("紧急度 (urgency)"),
                Column("工单 (tickets)", "int"),
                Column("超时 (breached)", "int"),
                Column("达标率 (compliance)", "percent"),
            ],
            [
                [
                    CLOCKS.get(r["clock"], r["clock"]),
                    "全部 all",
                    r["tickets"],
                    r["breached"],
                    r["compliance"],
                ]
                for r in s["by_clock"]
            ]
            + [
                [
                    CLOCKS.get(r["clock"], r["clock"]),
                    URGENCY.get(r["urgency"], r["urgency"]),
                    r["tickets"],
                    r["breached"],
                    r["compliance"],
                ]
                for r in s["by_clock_urgency"]
            ],  # fmt: skip
            note=f"预警 {s['warnings']} 次，升级 {s['escalations']} 次 (warnings, escalations)",
        ),
        Table(
            "first_response",
            "首次响应（受理）按渠道 (first response per channel)",
            [
                Column("渠道 (channel)"),
                Column("工单 (tickets)", "int"),
                Column("已受理 (acknowledged)", "int"),
                Column("受理超时 (late)", "int"),
                Column("达标率 (compliance)", "percent"),
                Column("等待中位数（分钟）(median wait, min)", "number"),
                Column("等待 P90（分钟）(p90 wait, min)", "number"),
            ],
            [
                [
                    r["channel"],
                    r["tickets"],
                    r["acknowledged"],
                    r["late"],
                    r["compliance"],
                    r["median_minutes"],
                    r["p90_minutes"],
                ]
                for r in report.get("first_response", {}).get("by_channel", [])
            ],
            note="受理时限默认 10 分钟，按工单的日历计时；等待时间为自然分钟 "
            "(the acknowledgement clock, 10 minutes by default on the ticket's calendar; waits in "
            "wall-clock minutes)",
        ),
        Table(
            "times",
            "响应与解决时间（工作时间，分钟）(response and resolution, working minutes)",
            [
                Column("指标 (measure)"),
                Column("紧急度 (urgency)"),
                Column("工单 (tickets)", "int"),
                Column("中位数 (median)", "number"),
                Column("P90", "number"),
            ],
            [
                [label, "全部 all", t["count"], t["median_minutes"], t["p90_minutes"]]
                for label, t in (
                    ("响应 response", report["times"]["response"]),
                    ("解决 resolution", report["times"]["resolution"]),
                )
            ]
            + [
                [
                    label,
                    URGENCY.get(u["urgency"], u["urgency"]),
                    u["count"],
                    u["median_minutes"],
                    u["p90_minutes"],
                ]
                for label, t in (
                    ("响应 response", report["times"]["response"]),
                    ("解决 resolution", report["times"]["resolution"]),
                )
                for u in t["by_urgency"]
            ],  # fmt: skip
        ),
        Table(
            "backlog",
            "积压与账龄 (backlog and ageing at month end)",
            [Column("账龄 (age)"), Column("工单 (tickets)", "int")],
            [[r["bucket"], r["count"]] for r in report["backlog"]["ageing"]],
            chart=(0, 1),
            note=f"月末未完成 {report['backlog']['open_at_month_end']} 张 (open at month end)",
        ),
        Table(
            "engineers",
            "工程师 (per engineer)",
            [
                Column("工程师 (engineer)"),
                Column("完成 (completed)", "int"),
                Column("一次修复率 (first-time fix)", "percent"),
                Column("满意度 (satisfaction)", "number"),
            ],
            [
                [r["engineer_id"], r["completed"], r["first_time_fix"], r["satisfaction"]]
                for r in report["engineers"]
            ],
            chart=(0, 1),
        ),
        Table(
            "dealers",
            "经销商三包 (per dealer, warranty measures)",
            [
                Column("经销商 (dealer)"),
                Column("区域 (region)"),
                Column("工单 (tickets)", "int"),
                Column("登记卡 (cards)", "int"),
                Column("按时率 (on time)", "percent"),
                Column("逾期卡 (cards overdue)", "int"),
                Column("旧件逾期 (parts overdue)", "int"),
                Column("扣款 (deductions, CNY)", "money"),
            ],
            [
                [
                    r["name"] or r["dealer_id"],
                    r["region"],
                    r["tickets"],
                    r["cards_registered"],
                    r["cards_on_time_rate"],
                    r["cards_overdue"],
                    r["parts_return_overdue"],
                    float(r["deduction_amount"]),
                ]
                for r in report["dealers"]
            ],  # fmt: skip
        ),
    ]
    sat = report["satisfaction"]
    out.append(
        Table(
            "satisfaction",
            "满意度 (satisfaction, 1–5)",
            [
                Column("维度 (dimension)"),
                Column("本月 (this month)", "number"),
                Column("上月 (previous month)", "number"),
                Column("环比 (MoM)", "percent"),
                Column("去年同月 (a year ago)", "number"),
                Column("同比 (YoY)", "percent"),
            ],
            [
                [
                    zh,
                    sat[k],
                    sat["previous_month"][k],
                    sat["previous_month"]["change"][k],
                    sat["previous_year"][k],
                    sat["previous_year"]["change"][k],
                ]
                for k, zh in (*DIMENSIONS.items(), ("overall", "综合"))
            ],  # fmt: skip
            chart=(0, 1),
            note=f"{sat['answers']} 份答卷，低分 {sat['low_scores']} 份 (answers, low scores)",
        )
    )
    ch = report["changes"]
    out.append(
        Table(
            "changes",
            "环比与同比 (month over month, year over year)",
            [
                Column("指标 (measure)"),
                Column("本月 (this month)", "number"),
                Column("上月 (previous month)", "number"),
                Column("环比 (MoM)", "percent"),
                Column("去年同月 (a year ago)", "number"),
                Column("同比 (YoY)", "percent"),
            ],
            [
                [
                    label,
                    ch["current"][k],
                    ch["previous_month"][k],
                    ch["previous_month"]["change"][k],
                    ch["previous_year"][k],
                    ch["previous_year"]["change"][k],
                ]
                for k, label in (
                    ("volume", "工单量 volume"),
                    ("failures", "故障数 failures"),
                    ("failures_per_thousand", "每千台故障 per 1,000"),
                )
            ],  # fmt: skip
        )
    )
    rv, tr = report["return_visits"], report["training_follow_ups"]
    out.append(
        Table(
            "follow_ups",
            "回访与培训回访 (return visits, training follow-ups)",
            [Column("指标 (measure)"), Column("数值 (value)", "number")],
            [
                ["回访完成 visits recorded", rv["recorded"]],
                ["已联系 reached", rv["reached"]],
                ["问题仍在 problem persists", rv["problem_persists"]],
                ["未联系上 unreachable", rv["unreachable"]],
                ["回访逾期 visits overdue", rv["overdue"]],
                ["培训回访 training calls", tr["recorded"]],
                ["需再培训 needs retraining", tr["needs_retraining"]],
            ],
        )
    )
    ca = report["corrective_actions"]
    out.append(
        Table(
            "corrective_actions",
            "纠正措施逾期 (corrective actions overdue)",
            [
                Column("编号 (no.)"),
                Column("标题 (title)"),
                Column("责任部门 (department)"),
                Column("到期 (due)"),
            ],
            [
                [r["action_no"], r["title"], r["owner_department"], r["due_date"]]
                for r in ca["items"]
            ],
            note=(
                f"本月新开 {ca['opened']} 项，完成 {ca['done']} 项，验证有效 {ca['verified']} 项，"
                f"验证退回 {ca['rejected']} 项；逾期 {ca['overdue']} 项 (opened, done, verified, "
                "rejected, overdue)"
            ),
        )
    )
    return out
