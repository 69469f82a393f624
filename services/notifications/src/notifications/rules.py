"""The notification rules: which events of the catalog are heard, and the rules file — this event
(versions, conditions) → these recipients on these channels with this template. Pure: no I/O."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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

    @field_validator("recipients")
    @classmethod
    def _selectors(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not SELECTOR.match(v)]
        if bad:
            raise ValueError(
                f"unknown recipient selector(s) {bad}; use contact, contacts, assignee, "
                "sales_rep, owner, dealer, group:<name> or duty:<group>"
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
                f"event {value!r} is not in the event catalog; known: {', '.join(CONSUMED)}"
            )
        if value != name and CONSUMED[name][0].ce_type().rsplit(".", 1)[0] != value:
            raise ValueError(
                f"event {value!r}: the type of {name} is {CONSUMED[name][0].ce_type()}"
            )
        return name

    @model_validator(mode="after")
    def _fields_exist(self) -> Rule:
        classes = self.classes()
        if not classes:
            known = ", ".join(str(c.VERSION) for c in CONSUMED[self.event])
            raise ValueError(f"{self.event} has no version in {self.versions} (versions: {known})")
        for name in (*self.when, *self.urgent_when):
            lacking = [c.VERSION for c in classes if name not in c.model_fields]
            if lacking:
                raise ValueError(
                    f"condition on {name!r}, which {self.event} does not have "
                    f"(version {', '.join(map(str, lacking))})"
                )
        return self

    def classes(self) -> list[type[EventData]]:
        """The versions of the event this rule takes."""
        return [
            c for c in CONSUMED[self.event] if self.versions is None or self.versions.has(c.VERSION)
        ]

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
        return [r for r in self.rules if r.matches(data)]


def parse_rules(
    raw: Any, known_templates: set[str] | None = None, lines: list[int] | None = None
) -> RuleSet:
    """Validate a loaded rules document; every problem is reported with its place (the rule's line
    in the file when `lines` says where each rule starts)."""
    try:
        ruleset = RuleSet.model_validate(raw)
    except ValidationError as exc:
        found = [f"{_place(e['loc'], lines)}: {e['msg']}" for e in exc.errors()]
        raise RulesError("通知规则无效 (invalid notification rules): " + "; ".join(found)) from exc
    if known_templates is not None:
        missing = sorted({r.template for r in ruleset.rules} - known_templates)
        if missing:
            raise RulesError(
                f"通知规则引用了不存在的模板 (rules name unknown templates): {', '.join(missing)}"
            )
    return ruleset


def _place(loc: tuple[Any, ...], lines: list[int] | None) -> str:
    path = ".".join(str(p) for p in loc)
    if lines and len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        if loc[1] < len(lines):
            return f"line {lines[loc[1]]} ({path})"
    return path
