"""Rules of the notifications service: who hears about what, when, and how often — no I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aftersales_shared.events import EventData, registry
from aftersales_shared.workcalendar import WorkCalendar

# every event of these producers is heard, and a rule can name any of them (by name: every version,
# or a range of versions); partners' requests and this service's own receipts are not notified about
SOURCES = ("contracts", "tickets", "surveys", "dealers")
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
LANGUAGES = ("zh-CN", "en")


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class Status(StrEnum):
    PENDING = "pending"  # due now, waiting for the scheduler
    HELD = "held"  # quiet hours or rate limit: due later
    SENDING = "sending"  # claimed, handed to the delivery worker
    RETRYING = "retrying"  # a temporary failure: due again after back-off
    SENT = "sent"
    FAILED = "failed"
    # nobody to send to (no such person, no or an invalid address): recorded with the reason and
    # listed in GET /unreachable-recipients — not a failure of sending, no NotificationFailed, never
    # retried
    SKIPPED = "skipped"
    MERGED = "merged"  # an alert carried by another delivery's digest (merged_into)


class MessageKind(StrEnum):
    """Alerts to staff are rate-limited and digested when they burst; transactional messages to
    customers (acknowledgement, appointment, survey invitation) never wait for a rate limit."""

    ALERT = "alert"
    TRANSACTIONAL = "transactional"


DIGEST = "digest"  # hold_reason of an alert waiting to go out with others in one message


class RulesError(ValueError):
    """The rules file is not usable; the message says where and why."""


# ---------------------------------------------------------------- rules
SELECTOR = re.compile(
    r"^(contact|contacts|assignee|sales_rep|dealer|group:[a-z_]{2,40}|duty:[a-z_]{2,40})$"
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
                "sales_rep, dealer, group:<name> or duty:<group>"
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


def in_working_time(calendar: WorkCalendar, now: datetime) -> bool:
    """Whether `now` falls in the calendar's working time (then a `duty:` selector names the whole
    group; outside it, the person on the rota)."""
    local = now.astimezone(calendar.tz)
    return any(start <= local < end for start, end in calendar.working_intervals(local.date()))


# ---------------------------------------------------------------- addresses
class AddressError(ValueError):
    pass


@lru_cache(maxsize=65536)  # pure; the same customers' numbers come back event after event
def normalize_phone(raw: str, region: str = "CN") -> str:
    """E.164 form of a phone number that can receive SMS; raise AddressError with a readable
    reason."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise AddressError(f"手机号码格式错误 (phone number {raw!r} cannot be parsed)") from exc
    if not phonenumbers.is_valid_number(number):
        raise AddressError(f"手机号码无效 (phone number {raw!r} is not a valid number)")
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise AddressError(f"该号码不能接收短信 (phone number {raw!r} is not a mobile number)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)
def normalize_email(raw: str) -> str:
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AddressError(f"邮箱地址无效 (email {raw!r}: {exc})") from exc


# ---------------------------------------------------------------- recipients
@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        if not text:
            return None
        a, _, b = text.partition("-")
        return cls(time.fromisoformat(a), time.fromisoformat(b))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def release_at(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """When a message due `now` may go out: None if now is outside the quiet window."""
        if self.start == self.end:
            return None
        local = now.astimezone(tz)
        t = local.time().replace(tzinfo=None)
        if self.start < self.end:
            inside = self.start <= t < self.end
        else:  # wraps midnight, e.g. 22:00-08:00
            inside = t >= self.start or t < self.end
        if not inside:
            return None
        release = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if release <= local:
            release += timedelta(days=1)
        return release.astimezone(now.tzinfo)


@dataclass(frozen=True)
class Recipient:
    """Someone a message can go to, with the preferences that shape it."""

    key: str
    name: str
    phone: str | None = None
    email: str | None = None
    language: str = "zh-CN"
    channels: frozenset[Channel] = frozenset(Channel)
    quiet_hours: QuietHours | None = None
    timezone: str = "Asia/Shanghai"
    rate_limit_per_hour: int = 10
    registered: bool = False
    address_errors: dict[str, str] = field(default_factory=dict, compare=False)

    def address(self, channel: Channel) -> str | None:
        return self.phone if channel is Channel.SMS else self.email


@dataclass(frozen=True)
class Timing:
    due_at: datetime
    held: bool
    reason: str | None = None


def delivery_timing(
    recipient: Recipient,
    urgent: bool,
    now: datetime,
    recent_due: list[datetime],
    rate_limited: bool = True,
) -> Timing:
    """Quiet hours hold non-urgent messages until morning; the rate limit spreads them over the
    hour.

    `recent_due` are the due times of this recipient's messages from the last hour onward.
    """
    if urgent:
        return Timing(now, held=False)
    due, reason = now, None
    if recipient.quiet_hours is not None:
        release = recipient.quiet_hours.release_at(now, ZoneInfo(recipient.timezone))
        if release is not None:
            due, reason = release, f"quiet hours {recipient.quiet_hours}"
    limit = recipient.rate_limit_per_hour
    window = sorted(d for d in recent_due if d > due - timedelta(hours=1))
    if rate_limited and len(window) >= limit:
        # the limit-th latest message leaves the window an hour after it went out
        due = max(due, window[-limit] + timedelta(hours=1))
        reason = f"rate limit {limit}/h"
    return Timing(due, held=due > now, reason=reason)


def retry_delay(attempt: int, base: float, cap: float) -> timedelta:
    """Exponential back-off after the given (1-based) failed attempt."""
    return timedelta(seconds=min(cap, base * (2 ** (attempt - 1))))


# ---------------------------------------------------------------- sms text
def fit_sms(text: str, signature: str, max_chars: int) -> str:
    """Prefix the 【signature】 and keep the whole text within the provider's length limit."""
    head = f"【{signature}】"
    body = " ".join(text.split())
    room = max_chars - len(head)
    if len(body) > room:
        body = body[: room - 1] + "…"
    return head + body


# ---------------------------------------------------------------- plans
@dataclass
class Planned:
    """One delivery an event causes (before it is written)."""

    rule_id: str
    template: str
    recipient: Recipient
    channel: Channel
    urgent: bool
    address: str | None = None
    error: str | None = None
    skipped: bool = False  # the error is that nobody can be reached (Status.SKIPPED)
    kind: MessageKind = MessageKind.ALERT
    content: dict[str, str] = field(default_factory=dict)
    secret: str | None = None  # {"masked", "sealed"}: the sealed survey link, opened only to send


def contact_key(phone: str | None, email: str | None) -> str:
    return f"contact:{phone or email or 'unknown'}"


def language_of(requested: str | None, default: str) -> str:
    return requested if requested in LANGUAGES else default


Mode = Literal["sms", "email"]
