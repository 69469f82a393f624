"""The fault catalogue (故障目录: symptoms and failed parts per product line) and the quality
audit trail as the console shows them: the pages' filters read and checked, the catalogue's forms
turned into the tickets API's bodies, each audit entry in zh-CN words. No web code
(http/quality_catalogue.py); the tickets API checks everything again."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .forms import FormError, text_field
from .quality import CAUSES, code_field, line_field, local, page_number, who

KINDS = {"symptoms": "故障现象", "parts": "故障部件"}
KINDS_EN = {"symptoms": "Symptoms", "parts": "Failed parts"}
SHOWN = {"": "全部", "yes": "启用中", "no": "已停用"}
ALL_LINES = "*"
ENTITY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:|+-]{0,63}$")

# the audit trail in words: what was changed, what was done, which field
ENTITIES = {
    "symptom": "故障现象",
    "part": "故障部件",
    "corrective_action": "纠正措施",
    "engineer": "工程师",
}
ENTITIES_SHOWN = ENTITIES | {"complaint": "投诉"}
ACTIONS = {
    "created": "新增",
    "changed": "修改",
    "updated": "修改",
    "deactivated": "停用",
    "reactivated": "重新启用",
    "seeded": "初始导入",
    "started": "开始实施",
    "done": "完成",
    "verified": "验证通过",
    "rejected": "验证未通过",
    "overdue": "逾期",
    "opened": "立案",
    "acknowledged": "受理",
    "limit_told": "告知处理时限",
    "findings": "调查结论",
    "proposed": "提出方案",
    "escalated": "升级",
    "level_changed": "调整等级",
    "owner_changed": "更换负责人",
    "closed": "结案",
}
FIELDS = {
    "name": "名称",
    "description": "说明",
    "active": "启用",
    "product_line": "产品线",
    "region": "区域",
    "phone": "手机号",
    "skills": "技能/产品线",
    "on_leave": "休假",
    "leave_until": "休假至",
    "owner_department": "负责部门",
    "due_date": "完成期限",
    "due_at": "期限",
    "note": "备注",
    "result": "结果",
    "reason": "原因",
    "resolution": "方案",
    "round": "轮次",
    "cause_category": "原因类别",
}
# where an entity names a field otherwise (an engineer is 在职, an entry 启用)
ENTITY_FIELDS = {"engineer": {"active": "在职", "name": "姓名"}}


@dataclass(frozen=True)
class CatalogueQuery:
    kind: str = "symptoms"
    product_line: str = ""
    active: str = ""  # "" | yes | no
    q: str = ""
    page: int = 1

    def api_params(self, size: int) -> dict[str, Any]:
        out: dict[str, Any] = {"limit": size, "offset": (self.page - 1) * size}
        if self.product_line:
            out["product_line"] = self.product_line
        if self.active:
            out["active"] = "true" if self.active == "yes" else "false"
        if self.q:
            out["q"] = self.q
        return out

    def link(self, **changes: Any) -> str:
        values: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        kept = {
            k: v
            for k, v in values.items()
            if v not in ("", None)
            and not (k == "page" and v == 1)
            and not (k == "kind" and v == "symptoms")
        }
        return "/quality/catalogue" + ("?" + urlencode(kept) if kept else "")


def parse_catalogue(params: dict[str, str]) -> CatalogueQuery:
    kind = (params.get("kind") or "symptoms").strip()
    if kind not in KINDS:
        raise FormError("只有 故障现象 和 故障部件 两类")
    active = (params.get("active") or "").strip()
    if active not in SHOWN:
        raise FormError("状态只能选 全部、启用中 或 已停用")
    line = (params.get("product_line") or "").strip()
    if line != ALL_LINES:
        line = line_field(params)
    q = text_field(params, "q", 60, "搜索词")
    return CatalogueQuery(kind, line, active, q, page_number(params))


def kind_of(raw: str) -> str:
    if raw not in KINDS:
        raise FormError("只有 故障现象 和 故障部件 两类")
    return raw


def new_entry(form: dict[str, str]) -> dict[str, Any]:
    """The body of POST /fault-catalogue/{kind}: code, product line (* for every line), name."""
    code = code_field(form, "code", "")
    if not code:
        raise FormError("请填写代码（字母、数字和 - _ .，如 XK-SPINDLE）")
    line = (form.get("product_line") or "").strip() or ALL_LINES
    if line != ALL_LINES:
        line = line_field(form)
    body: dict[str, Any] = {
        "code": code,
        "product_line": line,
        "name": text_field(form, "name", 100, "名称", required=True),
    }
    description = text_field(form, "description", 2000, "说明")
    if description:
        body["description"] = description
    return body


def entry_patch(form: dict[str, str]) -> dict[str, Any]:
    """Rename and describe (an emptied description clears it)."""
    description = text_field(form, "description", 2000, "说明")
    return {
        "name": text_field(form, "name", 100, "名称", required=True),
        "description": description or None,
    }


def line_label(line: str) -> str:
    return "通用（所有产品线）" if line == ALL_LINES else line


@dataclass(frozen=True)
class AuditQuery:
    entity: str = ""
    entity_id: str = ""
    page: int = 1

    def api_params(self, size: int) -> dict[str, Any]:
        out: dict[str, Any] = {"limit": size, "offset": (self.page - 1) * size}
        if self.entity:
            out["entity"] = self.entity
        if self.entity_id:
            out["entity_id"] = self.entity_id
        return out

    def link(self, **changes: Any) -> str:
        values: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        kept = {
            k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)
        }
        return "/quality/audit" + ("?" + urlencode(kept) if kept else "")


def parse_audit(params: dict[str, str]) -> AuditQuery:
    entity = (params.get("entity") or "").strip()
    if entity and entity not in ENTITIES:
        raise FormError("对象只能选 故障现象、故障部件、纠正措施 或 工程师")
    entity_id = (params.get("entity_id") or "").strip()
    if entity_id and not ENTITY_ID.fullmatch(entity_id):
        raise FormError("编号只含字母、数字和 - _ . @ :，最多 64 个字符")
    return AuditQuery(entity, entity_id, page_number(params))


def _value(field: str, value: Any, tz: ZoneInfo) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "（空）"
    if field == "cause_category":
        return CAUSES.get(str(value), str(value))
    if field == "product_line":
        return line_label(str(value))
    if field == "due_at":
        return local(value, tz)
    return str(value)


def _changes(changes: dict[str, Any], names: dict[str, str], tz: ZoneInfo) -> list[str]:
    """{field: {from, to}} (the catalogue) or {field: [from, to]} (the roster) in words."""
    said = []
    for field, change in changes.items():
        if isinstance(change, dict):
            before, after = change.get("from"), change.get("to")
        elif isinstance(change, list) and len(change) == 2:
            before, after = change
        else:
            before, after = None, change
        name = names.get(field, field)
        said.append(f"{name}：{_value(field, before, tz)} → {_value(field, after, tz)}")
    return said


def audit_row(entry: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """One audit entry: who, when, what (entity, action) and the details, in zh-CN words."""
    detail = entry.get("detail") or {}
    entity = entry.get("entity", "")
    names = FIELDS | ENTITY_FIELDS.get(entity, {})
    changes = detail.get("changes")
    said = _changes(changes, names, tz) if isinstance(changes, dict) else []
    said += [f"{names.get(k, k)}：{_value(k, v, tz)}" for k, v in detail.items() if k != "changes"]
    return entry | {
        "entity_zh": ENTITIES_SHOWN.get(entity, entity),
        "action_zh": ACTIONS.get(entry.get("action", ""), entry.get("action", "")),
        "actor_zh": who(entry.get("actor")),
        "at_label": local(entry.get("at"), tz),
        "said": said,
    }
