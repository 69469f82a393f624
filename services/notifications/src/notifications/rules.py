"""The notification rules: which events of the catalog are heard, and the rules file — this event
(versions, conditions) → these recipients on these channels with this template. Pure: no I/O."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from aftersales_shared.events import EventData, registry

from .domain import Channel, MessageKind, RulesError

# every event of these producers is heard, and a rule can name any of them (by name: every version,
# or a range of versions); partners' requests and this service's own receipts are not notified about
SOURCES = ("contracts", "tickets", "surveys", "dealers", "reports", "parts")
NOT_NOTIFIED = frozenset(
    {"CalendarChanged"}
)  # configuration travelling as an event, not a happening


def _catalog() -> dict[str, tuple[type[EventData], ...]]:
    by_name: dict[str, list[type[EventData]]] = {}
    for cls in registry.all():
        if cls.PRODUCER in SOURCES and cls.NAME not in NOT_NOTIFIED:
            by_name.setdefault(cls.NAME, []).append(cls)
    return {name: tuple(sorted(v, key=lambda c: c.VERSION)) for name, v in sorted(by_name.items())}


# event name → its versions, oldest first
CONSUMED: dict[str, tuple[type[EventData], ...]] = _catalog()

# ---------------------------------------------------------------- rules
SELECTOR = re.compile(
    r"^(contact|contacts|assignee|sales_rep|owner|dealer|group:[a-z_]{2,40}|duty:[a-z_]{2,40})$"
)


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    eq: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    gte: float | None = None
    lte: float | None = None

    def holds(self, value: Any) -> bool:
        value = value.value if isinstance(value, StrEnum) else value
        if self.eq is not None and value != self.eq:
            return False
        if self.in_ is not None and value not in self.in_:
            return False
        if self.gte is not None and (value is None or value < self.gte):
            return False
        if self.lte is not None and (value is None or value > self.lte):
            return False
        return True


class VersionRange(BaseModel):
    """``versions: {min: 1, max: 2}`` — either end may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int | None = Field(default=None, ge=1)
    max: int | None = Field(default=None, ge=1)

    def has(self, version: int) -> bool:
        return (self.min is None or version >= self.min) and (
            self.max is None or version <= self.max
        )

    def __str__(self) -> str:
        return f"{self.min or 1}..{self.max or '∞'}"


def _classes(event: str, versions: VersionRange | None) -> list[type[EventData]]:
    return [c for c in CONSUMED[event] if versions is None or versions.has(c.VERSION)]


class Rule(BaseModel):
    """One line of the rules file: this event → these recipients on these channels with this
    template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_.-]{2,60}$")
    event: str = Field(
        description="the event's name (TicketOpened) or CloudEvents type without version"
    )
    versions: VersionRange | None = Field(
        default=None, description="only these versions (default: every version)"
    )
    template: str = Field(pattern=r"^[a-z0-9_]{2,60}$")
    recipients: list[str] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1)
    when: dict[str, Condition] = Field(default_factory=dict)
    urgent: bool = Field(default=False, description="goes through quiet hours and rate limits")
    kind: MessageKind = Field(
        default=MessageKind.ALERT,
        description="alert (rate-limited, digested in bursts) or transactional (no rate limit)",
    )
    urgent_when: dict[str, Condition] = Field(default_factory=dict)
    enabled: bool = Field(default=True, description="false: kept in the set but never applied")

    @field_validator("recipients")
    @classmethod
    def _selectors(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not SELECTOR.match(v)]
        if bad:
            raise ValueError(
                f"通知对象不认识：{bad} (unknown recipient selector(s) {bad}; use contact, "
                "contacts, assignee, sales_rep, owner, dealer, group:<name> or duty:<group>)"
            )
        return value

    @field_validator("event")
    @classmethod
    def _event_name(cls, value: str) -> str:
        # the CloudEvents type without its version names the same event:
        # cn.aftersales.dealers.CardOverdue
        name = value.rsplit(".", 1)[-1] if value.startswith("cn.aftersales.") else value
        if name not in CONSUMED:
            raise ValueError(
                f"事件目录中没有 {value!r} (event {value!r} is not in the event catalog; "
                f"known: {', '.join(CONSUMED)})"
            )
        if value != name and CONSUMED[name][0].ce_type().rsplit(".", 1)[0] != value:
            raise ValueError(
                f"事件类型不对 (event {value!r}: the type of {name} is "
                f"{CONSUMED[name][0].ce_type()})"
            )
        return name

    @field_validator("versions")
    @classmethod
    def _versions_exist(cls, value: VersionRange | None, info: ValidationInfo) -> Any:
        event = info.data.get("event")
        if value is not None and event in CONSUMED:
            if not [c for c in CONSUMED[event] if value.has(c.VERSION)]:
                known = ", ".join(str(c.VERSION) for c in CONSUMED[event])
                raise ValueError(
                    f"{event} 没有 {value} 的版本 ({event} has no version in {value} "
                    f"(versions: {known}))"
                )
        return value

    @field_validator("when", "urgent_when")
    @classmethod
    def _fields_exist(cls, value: dict[str, Condition], info: ValidationInfo) -> Any:
        event = info.data.get("event")
        if event not in CONSUMED or "versions" not in info.data:
            return value  # the event or its versions are wrong: said there
        classes = _classes(event, info.data["versions"])
        for name in value:
            lacking = [c.VERSION for c in classes if name not in c.model_fields]
            if lacking:
                raise ValueError(
                    f"{event} 没有字段 {name!r} (condition on {name!r}, which {event} does not "
                    f"have (version {', '.join(map(str, lacking))}))"
                )
        return value

    def classes(self) -> list[type[EventData]]:
        """The versions of the event this rule takes."""
        return _classes(self.event, self.versions)

    def matches(self, data: EventData) -> bool:
        return (
            data.NAME == self.event
            and (self.versions is None or self.versions.has(data.VERSION))
            and self.applies(data)
        )

    def applies(self, data: EventData) -> bool:
        return all(cond.holds(getattr(data, name)) for name, cond in self.when.items())

    def is_urgent(self, data: EventData) -> bool:
        if self.urgent:
            return True
        return bool(self.urgent_when) and all(
            c.holds(getattr(data, n)) for n, c in self.urgent_when.items()
        )


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} appears twice")
            seen.add(rule.id)
        return self

    def for_event(self, data: EventData) -> list[Rule]:
        """The rules that apply to this event (a switched-off rule never does)."""
        return [r for r in self.rules if r.enabled and r.matches(data)]


def parse_rules(
    raw: Any, known_templates: set[str] | None = None, lines: list[int] | None = None
) -> RuleSet:
    """Validate a loaded rules document; every problem is reported with its place: the rule (its
    id and position, and its line in the file when `lines` says where each rule starts) and the
    field, in Chinese and English (`RulesError.problems` holds them one by one)."""
    try:
        ruleset = RuleSet.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(raw, e, lines) for e in exc.errors()]
        raise RulesError(
            "通知规则无效 (invalid notification rules): "
            + "; ".join(p["detail"] for p in problems),
            problems,
        ) from exc
    if known_templates is not None:
        problems = [
            _said(
                i,
                rule.id,
                "template",
                f"模板 {rule.template} 不存在 (no such template)",
                None,
                lines,
            )
            for i, rule in enumerate(ruleset.rules)
            if rule.template not in known_templates
        ]
        if problems:
            missing = sorted({r.template for r in ruleset.rules} - known_templates)
            raise RulesError(
                f"通知规则引用了不存在的模板 (rules name unknown templates): {', '.join(missing)}; "
                + "; ".join(p["detail"] for p in problems),
                problems,
            )
    return ruleset


# what a person reads for pydantic's error types (the English message follows)
ERRORS_ZH = {
    "missing": "必须填写",
    "extra_forbidden": "不认识的字段",
    "string_pattern_mismatch": "格式不对",
    "string_type": "须为文字",
    "enum": "取值不在可选范围内",
    "too_short": "不能为空",
    "bool_type": "须为是/否",
    "bool_parsing": "须为是/否",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "float_parsing": "须为数字",
    "list_type": "须为列表",
    "dict_type": "须为映射",
    "model_type": "须为映射",
    "model_attributes_type": "须为映射",
    "greater_than_equal": "数值太小",
}
FIELDS_ZH = {
    "id": "编号",
    "event": "事件",
    "versions": "版本",
    "template": "模板",
    "recipients": "通知对象",
    "channels": "渠道",
    "when": "条件",
    "urgent": "紧急",
    "urgent_when": "紧急条件",
    "kind": "类别",
    "enabled": "启用",
    "rules": "规则列表",
    "version": "格式版本",
}


def _problem(raw: Any, error: Any, lines: list[int] | None) -> dict[str, Any]:
    loc = tuple(error["loc"])
    msg = str(error["msg"])
    zh = msg.removeprefix("Value error, ") if error["type"] == "value_error" else None
    if zh is None:
        zh = ERRORS_ZH.get(error["type"], "不符合要求")
    else:
        msg = zh  # our own messages are already in both languages
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        index = loc[1]
        items = raw.get("rules") if isinstance(raw, dict) else None
        item = items[index] if isinstance(items, list) and index < len(items) else None
        rid = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
        field = ".".join(str(p) for p in loc[2:]) or None
        return _said(index, rid, field, zh, msg, lines)
    field = ".".join(str(p) for p in loc) or "rules"
    label = FIELDS_ZH.get(str(loc[0]) if loc else "rules", field)
    detail = f"{field}: {label}{zh} ({msg})" if zh != msg else f"{field}: {msg}"
    return {"rule": None, "index": None, "field": field, "detail": detail}


def _said(
    index: int,
    rid: str | None,
    field: str | None,
    zh: str,
    en: str | None,
    lines: list[int] | None,
) -> dict[str, Any]:
    """One problem of one rule: where (line, rules.<i>.<field>), which rule, which field, why."""
    path = ".".join(str(p) for p in ("rules", index, field) if p is not None)
    place = f"line {lines[index]} ({path})" if lines and index < len(lines) else path
    who = f"规则 {rid}" if rid else f"第 {index + 1} 条规则"
    top = (field or "").split(".", 1)[0]
    what = f" 的{FIELDS_ZH.get(top, top)}（{field}）" if field else ""
    why = zh if en is None or en == zh else f"{zh} ({en})"
    return {
        "rule": rid,
        "index": index,
        "field": field,
        "detail": f"{place}: {who}{what}：{why}",
    }
