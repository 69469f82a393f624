"""Rules of the notifications service: who hears about what, when, and how often — no I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from aftersales_shared.workcalendar import WorkCalendar

LANGUAGES = ("zh-CN", "en")


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    # a template message of the WeChat official account (公众号) to the person's openid: planned
    # only for people who have one, when the account is configured and the template has a WeChat
    # template id (NOTIFICATIONS_WECHAT_*)
    WECHAT = "wechat"


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
    """The rules file is not usable; the message says where and why, `problems` one by one (rule
    id, position, field, what is wrong)."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


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
    wechat_openid: str | None = None
    address_errors: dict[str, str] = field(default_factory=dict, compare=False)

    def address(self, channel: Channel) -> str | None:
        if channel is Channel.WECHAT:
            return self.wechat_openid
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


Mode = Literal["sms", "email", "wechat"]
