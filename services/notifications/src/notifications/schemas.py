"""HTTP request/response types of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, ConfigDict, Field, field_validator

from aftersales_shared.patch import NoNullsUnlessClearable
from aftersales_shared.schemas import In, Out

from .domain import Channel, QuietHours

QUIET = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"
GROUP = r"^[a-z_]{2,40}$"


class _In(In):
    """Request bodies: unknown fields refused, no number taken for a date or a flag (text kept as
    sent)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("quiet_hours", check_fields=False)
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        if value is not None and QuietHours.parse(value).start == QuietHours.parse(value).end:  # type: ignore[union-attr]
            raise ValueError("quiet hours must start and end at different times")
        return value


class RecipientIn(_In):
    """Register a person who receives notifications; phone and email are validated here, not at 3
    a.m."""

    id: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:@-]+$",
        description="the person's user id (engineer, supervisor…) as used in events",
    )
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    wechat_openid: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="openid at the company's WeChat official account (the wechat channel)",
    )
    language: Literal["zh-CN", "en"] = "zh-CN"
    channels: list[Channel] = Field(
        default_factory=lambda: [Channel.SMS, Channel.EMAIL], min_length=1
    )
    groups: list[str] = Field(
        default_factory=list, description="e.g. service_supervisor, manager, sales_manager, dealer"
    )
    dealer_id: str | None = Field(default=None, max_length=64)
    quiet_hours: str | None = Field(
        default="22:00-08:00", pattern=QUIET, description="local HH:MM-HH:MM; null = none"
    )
    timezone: str = "Asia/Shanghai"
    rate_limit_per_hour: int = Field(default=10, ge=1, le=1000)

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        import re

        bad = [g for g in value if not re.match(GROUP, g)]
        if bad:
            raise ValueError(f"group names are lower-case words with underscores: {bad}")
        return sorted(set(value))


class RecipientPatch(NoNullsUnlessClearable, _In):
    """Change contact data or preferences; only the fields given change (null clears an optional
    one)."""

    clearable = frozenset({"phone", "email", "wechat_openid", "dealer_id", "quiet_hours"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    wechat_openid: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    language: Literal["zh-CN", "en"] | None = None
    channels: list[Channel] | None = Field(default=None, min_length=1)
    groups: list[str] | None = None
    dealer_id: str | None = Field(default=None, max_length=64)
    quiet_hours: str | None = Field(default=None, pattern=QUIET)
    timezone: str | None = None
    rate_limit_per_hour: int | None = Field(default=None, ge=1, le=1000)
    active: bool | None = None


class RecipientOut(Out):
    id: str
    name: str
    phone: str | None
    email: str | None
    wechat_openid: str | None = None
    language: str
    channels: list[str]
    groups: list[str]
    dealer_id: str | None
    quiet_hours: str | None
    timezone: str
    rate_limit_per_hour: int
    active: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class RecipientChangeOut(Out):
    action: str
    changes: dict
    changed_at: datetime
    changed_by: str


class DeliveryOut(Out):
    id: str
    source_event_id: str
    source_event_type: str
    subject: str | None
    rule_id: str
    template: str
    recipient_key: str
    recipient_name: str | None
    channel: str
    address: str | None
    language: str
    urgent: bool
    title: str | None
    body_text: str | None
    status: str
    hold_reason: str | None
    attempts: int
    due_at: datetime
    last_error: str | None
    provider: str | None
    provider_message_id: str | None
    event_time: datetime
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    merged_into: str | None = Field(
        default=None, description="status merged: the digest delivery that carried this alert"
    )


class UnreachableOut(Out):
    """Someone the rules name who could not be reached on a channel (skipped deliveries), and
    why."""

    recipient_key: str = Field(
        description="the person's id, or missing:<who> / group:<name> / dealer:<id>"
    )
    recipient_name: str | None
    channel: str
    deliveries: int = Field(description="skipped deliveries in the window")
    first_at: datetime
    last_at: datetime
    reason: str = Field(description="the latest reason, e.g. 收件人没有手机号")


GROUP = r"^[a-z_]{2,40}$"


class DutyShiftIn(In):
    """A shift: `recipient_id` is on duty for `group` from `starts_at` to `ends_at`."""

    group: str = Field(pattern=GROUP, description="e.g. service_supervisor")
    recipient_id: str = Field(min_length=1, max_length=100)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    note: str | None = Field(default=None, max_length=200)


class DutyShiftOut(Out):
    id: int
    group: str = Field(validation_alias="group_name")
    recipient_id: str
    starts_at: datetime
    ends_at: datetime
    note: str | None
    created_by: str
    created_at: datetime


class OnDutyOut(Out):
    group: str
    at: datetime
    working_time: bool = Field(description="in working time the whole group hears duty: alerts")
    recipients: list[RecipientOut]


# ---------------------------------------------------------------- the rules as data
VERSION_NUMBER = Field(ge=0, le=2**31 - 1, description="the version the change was made on")
NOTE = Field(default=None, max_length=500, description="why (shown in the history)")


class RulesIn(_In):
    """The whole rule set, saved as the next version if nobody saved since `expected_version`."""

    expected_version: int = VERSION_NUMBER
    rules: list[dict[str, Any]] = Field(max_length=500)
    note: str | None = NOTE


class RuleIn(_In):
    """One rule added or replaced (its id is the path's)."""

    expected_version: int = VERSION_NUMBER
    rule: dict[str, Any]
    note: str | None = NOTE


class RuleSwitchIn(_In):
    expected_version: int = VERSION_NUMBER
    enabled: bool
    note: str | None = NOTE


class RestoreIn(_In):
    expected_version: int = VERSION_NUMBER
    note: str | None = NOTE


class RuleVersionOut(Out):
    """One saved version: who, when, why, and how many rules it added, changed and removed."""

    version: int
    action: str
    note: str | None
    restored_from: int | None
    rules_added: int
    rules_changed: int
    rules_removed: int
    saved_by: str
    saved_at: datetime


class RulesOut(RuleVersionOut):
    """A version with its rules (defaults left out: `enabled` appears only when false)."""

    rules: list[dict[str, Any]]


class CatalogEventOut(Out):
    name: str
    type: str
    producer: str
    summary: str
    versions: dict[int, list[str]] = Field(description="version → the fields a condition may test")


class RuleCatalogOut(Out):
    """What a rule may name: events (their versions and fields), templates, selectors, channels."""

    events: list[CatalogEventOut]
    templates: list[str]
    selectors: list[str]
    channels: list[str]
    kinds: list[str]
    operators: list[str]
