"""The notification rules as the admin page shows and edits them (notifications owns them:
`GET /rules`, `/rules/catalog`, `/rules/versions`, `PUT /rules/items/{id}`…): rules grouped by
event and said in Chinese words, a rule form turned into the API's rule and back, conditions typed
as `urgency in critical, urgent`. No web code (http/rules.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .forms import FormError, text_field
from .people import ROLE_NAMES

READERS = ("service_agent", "service_supervisor", "manager")  # notifications' READERS
RULE_ID = re.compile(r"^[a-z0-9_.-]{2,60}$")
CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]{0,60})\s*(=|==|eq|in|gte|>=|lte|<=)\s*(.+)$")
OPS = {"=": "eq", "==": "eq", "eq": "eq", "in": "in", "gte": "gte", ">=": "gte"}
OPS |= {"lte": "lte", "<=": "lte"}

EVENTS_ZH = {
    "TicketOpened": "工单受理",
    "TicketAcknowledged": "工单已确认",
    "TicketAssigned": "工单派工",
    "TicketReopened": "工单重开",
    "SlaWarning": "SLA 即将超时",
    "SlaBreached": "SLA 超时",
    "SlaEscalated": "SLA 超时升级",
    "SlaDeadlineChanged": "SLA 截止时间变更",
    "ServiceCompleted": "服务完成",
    "ServiceSheetSigned": "维修服务单签字",
    "SurveyRequested": "满意度调查邀请",
    "SurveyAnswered": "满意度调查回复",
    "FollowUpOpened": "低分跟进",
    "ContractSigned": "合同签订",
    "ContractSubmitted": "合同提交评审",
    "ContractReviewed": "合同评审",
    "ContractArchived": "合同归档",
    "ContractArchiveOverdue": "合同归档逾期",
    "DeliveryNotice": "发货通知",
    "ObjectionAnswerOverdue": "收货异议答复逾期",
    "InstallationBookingOverdue": "安装预约逾期",
    "TrainingFollowUpOverdue": "培训回访逾期",
    "TrainingFollowUpRecorded": "培训回访记录",
    "CalendarYearMissing": "缺少年度放假安排",
    "CardDueSoon": "三包回执卡即将到期",
    "CardOverdue": "三包回执卡逾期",
    "WarrantyCardRegistered": "三包回执卡登记",
    "WarrantyServiceOverdue": "三包服务安排逾期",
    "PartsReturnOverdue": "旧件返还逾期",
    "DeductionIssued": "三包费用核销通知",
    "StockingPlanMissed": "备件计划未交",
    "DealerContactsChanged": "经销商联系人变更",
    "StockBelowReorderPoint": "库存低于订货点",
    "PartIssued": "备件出库",
    "PartReturned": "备件退回",
    "PartsArrivedForTicket": "工单备件到货",
    "QuoteIssued": "报价发出",
    "QuoteAccepted": "报价接受",
    "QuoteDeclined": "报价拒绝",
    "QuoteWithdrawn": "报价撤回",
    "InvoiceRequested": "开票申请",
    "InvoiceCancelled": "开票撤回或红冲",
    "ExpenseClaimSubmitted": "报销提交",
    "ExpenseClaimApproved": "报销批准",
    "ExpenseClaimRejected": "报销驳回",
    "ExpenseClaimSettled": "报销结算",
    "ExpenseClaimOverdue": "报销逾期",
    "ReturnVisitOverdue": "回访逾期",
    "ReturnVisitRecorded": "回访记录",
    "ReportPublished": "月报发布",
    "FaultClassified": "故障分类",
    "CauseAnalysisOverdue": "原因分析逾期",
    "CorrectiveActionChanged": "纠正措施变更",
    "CorrectiveActionOverdue": "纠正措施逾期",
    "KnowledgeArticleChanged": "知识文章变更",
    "ComplaintClassified": "投诉定级",
    "ComplaintEscalated": "投诉升级",
    "ComplaintLimitTold": "投诉时限告知",
    "ComplaintOverdue": "投诉处理逾期",
    "ComplaintResolutionProposed": "投诉处理方案",
}
RECIPIENTS = {
    "contact": "联系人",
    "contacts": "客户全部联系人",
    "assignee": "处理人",
    "sales_rep": "销售代表",
    "owner": "负责人",
    "dealer": "经销商人员",
}
CHANNELS = {"sms": "短信", "email": "邮件", "wechat": "微信"}
KINDS = {"alert": "提醒（限流、合并）", "transactional": "客户消息（不限流）"}
FIELDS = {
    "urgency": "紧急程度",
    "level": "级别",
    "change": "变化",
    "management": "涉及管理层",
    "owner_department": "负责部门",
    "outcome": "结果",
    "stage": "阶段",
    "low_score": "低分",
    "escalation_level": "升级级别",
}
VALUES = {
    "normal": "一般",
    "urgent": "紧急",
    "critical": "特急",
    "serious": "重大",
    "True": "是",
    "False": "否",
}
OPS_ZH = {"eq": "为", "in": "属于", "gte": "≥", "lte": "≤"}
ACTIONS = {
    "seed": "首次导入",
    "save": "整体保存",
    "rule_saved": "保存规则",
    "rule_removed": "删除规则",
    "switched": "启用/停用",
    "restore": "恢复旧版",
    "defaults": "恢复默认",
}


def event_label(name: str) -> str:
    zh = EVENTS_ZH.get(name)
    return f"{zh}（{name}）" if zh else name


GROUPS = ROLE_NAMES | {"product": "产品部", "production": "生产部", "purchasing": "采购部"}


def recipient_label(selector: str) -> str:
    kind, _, group = selector.partition(":")
    if kind in ("group", "duty"):
        said = GROUPS.get(group, group)
        return f"{'全组' if kind == 'group' else '值班'} {said}"
    return RECIPIENTS.get(selector, selector)


def _value(v: Any) -> str:
    if isinstance(v, list):
        return "、".join(_value(x) for x in v)
    return VALUES.get(str(v), str(v))


def conditions_label(conds: Any) -> str:
    """`{urgency: {in: [critical]}}` → 紧急程度属于特急."""
    if not isinstance(conds, dict):
        return ""
    said = []
    for field, test in conds.items():
        for op, v in (test or {}).items() if isinstance(test, dict) else []:
            if v is not None:
                said.append(f"{FIELDS.get(field, field)}{OPS_ZH.get(op, op)}{_value(v)}")
    return "；".join(said)


def conditions_text(conds: Any) -> str:
    """The form's text of conditions: one `field op value` per line."""
    if not isinstance(conds, dict):
        return ""
    lines = []
    for field, test in conds.items():
        for op, v in (test or {}).items() if isinstance(test, dict) else []:
            if v is None:
                continue
            shown = ", ".join(_raw(x) for x in v) if isinstance(v, list) else _raw(v)
            lines.append(f"{field} {op} {shown}")
    return "\n".join(lines)


def _raw(v: Any) -> str:
    return "true" if v is True else "false" if v is False else str(v)


def _typed(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def parse_conditions(text: str, label: str) -> dict[str, dict[str, Any]]:
    """`urgency in critical, urgent` / `escalation_level gte 2` / `low_score = true`, one a line."""
    out: dict[str, dict[str, Any]] = {}
    for line in (text or "").replace("；", "\n").replace(";", "\n").splitlines():
        if not line.strip():
            continue
        found = CONDITION.match(line)
        if not found:
            raise FormError(
                f"{label}“{line.strip()[:60]}”看不懂：每行写“字段 运算 值”，"
                "运算为 eq、in、gte、lte，例如 urgency in critical, urgent"
            )
        field, op, value = found[1], OPS[found[2]], found[3].strip()
        if op == "in":
            parsed: Any = [_typed(v.strip()) for v in re.split(r"[,，、]", value) if v.strip()]
        elif op in ("gte", "lte"):
            parsed = _typed(value)
            if not isinstance(parsed, int | float) or isinstance(parsed, bool):
                raise FormError(f"{label}“{line.strip()[:60]}”：{op} 后须为数字")
        else:
            parsed = _typed(value)
        out.setdefault(field, {})[op] = parsed
    return out


def _selectors(raw: str) -> list[str]:
    """Selectors typed with commas or spaces between them (notifications says which it knows)."""
    found = [s for s in re.split(r"[\s,，、;；]+", raw or "") if s]
    if not found:
        raise FormError("请填写通知对象，例如 contact 或 group:service_supervisor")
    if len(found) > 20 or any(len(s) > 60 for s in found):
        raise FormError("通知对象最多 20 个，每个最多 60 个字符")
    return list(dict.fromkeys(found))


def rule_from_form(form: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The rule a form describes (the API validates it again against the catalog)."""
    rid = text_field(form, "id", 60, "规则编号", required=True)
    if not RULE_ID.fullmatch(rid):
        raise FormError("规则编号用小写字母、数字和 - _ .（2–60 个），例如 ticket-opened-ack")
    rule: dict[str, Any] = {
        "id": rid,
        "event": text_field(form, "event", 120, "事件", required=True),
        "template": text_field(form, "template", 60, "模板", required=True),
        "recipients": _selectors(form.get("recipients", "")),
        "channels": [c for c in CHANNELS if form.get(f"channel_{c}") == "on"],
    }
    if not rule["channels"]:
        raise FormError("请至少选择一个通知渠道（短信、邮件或微信）")
    kind = form.get("kind") or "alert"
    if kind not in KINDS:
        raise FormError("类别须为提醒或客户消息")
    if kind != "alert":
        rule["kind"] = kind
    for field, label in (("when", "条件"), ("urgent_when", "紧急条件")):
        conds = parse_conditions(form.get(field, ""), label)
        if conds:
            rule[field] = conds
    if form.get("urgent") == "on":
        rule["urgent"] = True
    if form.get("enabled") != "on":
        rule["enabled"] = False
    for end in ("min", "max"):
        raw = (form.get(f"version_{end}") or "").strip()
        if raw:
            if not raw.isdigit() or not 1 <= int(raw) <= 99:
                raise FormError("版本须为 1–99 的整数，或留空")
            rule.setdefault("versions", {})[end] = int(raw)
    return rid, rule


def form_of(rule: dict[str, Any]) -> dict[str, str]:
    """A rule as its edit form's values."""
    versions = rule.get("versions") or {}
    out = {
        "id": rule.get("id", ""),
        "event": rule.get("event", ""),
        "template": rule.get("template", ""),
        "recipients": ", ".join(rule.get("recipients") or []),
        "kind": rule.get("kind", "alert"),
        "when": conditions_text(rule.get("when")),
        "urgent_when": conditions_text(rule.get("urgent_when")),
        "version_min": str(versions.get("min") or ""),
        "version_max": str(versions.get("max") or ""),
    }
    out |= {f"channel_{c}": "on" for c in rule.get("channels") or []}
    if rule.get("urgent"):
        out["urgent"] = "on"
    if rule.get("enabled", True):
        out["enabled"] = "on"
    return out


def described(rule: dict[str, Any]) -> dict[str, Any]:
    """What the page says of a rule, in Chinese words."""
    return {
        "id": rule.get("id", ""),
        "event": rule.get("event", ""),
        "template": rule.get("template", ""),
        "kind": KINDS.get(rule.get("kind", "alert"), rule.get("kind", "")),
        "recipients": [recipient_label(str(x)) for x in rule.get("recipients") or []],
        "channels": [CHANNELS.get(str(c), str(c)) for c in rule.get("channels") or []],
        "when": conditions_label(rule.get("when")),
        "urgent": bool(rule.get("urgent")),
        "urgent_when": conditions_label(rule.get("urgent_when")),
        "enabled": rule.get("enabled", True) is not False,
        "versions": rule.get("versions"),
        "form": form_of(rule),
    }


def by_event(
    rules: list[dict[str, Any]], event: str = "", state: str = ""
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(event, its label, its rules) in the order the events first appear; filtered by event
    and by state (on, off)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        shown = described(rule)
        if event and shown["event"] != event:
            continue
        if (state == "on" and not shown["enabled"]) or (state == "off" and shown["enabled"]):
            continue
        groups.setdefault(shown["event"], []).append(shown)
    return [(name, event_label(name), items) for name, items in groups.items()]


def group_summary(items: list[dict[str, Any]]) -> str:
    """One short line for a folded event group: how many are off, whom they tell, how."""
    said = []
    if off := sum(1 for x in items if not x["enabled"]):
        said.append(f"{off} 条已停用")
    if urgent := sum(1 for x in items if x["urgent"]):
        said.append(f"{urgent} 条总是紧急")
    who = list(dict.fromkeys(w for x in items for w in x["recipients"]))
    if who:
        more = f" 等 {len(who)} 类" if len(who) > 2 else ""
        said.append("通知 " + "、".join(who[:2]) + more)
    via = list(dict.fromkeys(c for x in items for c in x["channels"]))
    if via:
        said.append("经 " + "、".join(via))
    return " · ".join(said)


def history(items: list[dict[str, Any]], tz: ZoneInfo) -> list[dict[str, Any]]:
    out = []
    for v in items:
        at = datetime.fromisoformat(str(v["saved_at"]).replace("Z", "+00:00"))
        out.append(
            v
            | {
                "at": at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "action_zh": ACTIONS.get(v.get("action", ""), v.get("action", "")),
            }
        )
    return out
