"""Survey rules: when to invite, whom to skip, tokens, answer validation, low scores; which
completed services get a return visit (回访) and what its outcome means. No I/O."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from aftersales_shared.db import CLOCK_SKEW
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.publiclinks import (  # noqa: F401 (the survey links' tokens)
    hash_token,
    new_token,
    well_formed_token,
)

DIMENSIONS = ("efficiency", "attitude", "professionalism")  # 效率 / 态度 / 专业性
SCORE_MIN, SCORE_MAX = 1, 5
RECOMMEND_MIN, RECOMMEND_MAX = 0, 10
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


class SurveyStatus(StrEnum):
    SCHEDULED = "scheduled"  # invitation due later (within 1 working day)
    INVITED = "invited"  # link sent (SurveyRequested published)
    ANSWERED = "answered"
    SKIPPED = "skipped"  # not surveyed: see skip_reason


class SkipReason(StrEnum):
    RECENTLY_SURVEYED = "recently_surveyed"
    NO_CONTACT = "no_contact"


class AnswerMethod(StrEnum):
    WEB = "web"  # the customer on the public page
    PHONE = "phone"  # an agent recorded it during a call


@dataclass(frozen=True)
class Policy:
    """The knobs of the survey rules (from settings)."""

    invite_delay_minutes: int = 60
    invite_within_working_days: int = 1
    token_ttl_days: int = 14
    quiet_days: int = 30
    low_score_threshold: int = 2
    low_recommend_threshold: int | None = None
    comment_max_chars: int = 500
    public_base_url: str = "http://127.0.0.1:8103"
    calendar_id: str = "default"
    timezone: str = "Asia/Shanghai"
    redact_after_seconds: float = 300.0
    notifications_public_key: str = (
        ""  # survey links leave sealed to it (aftersales_shared.sealing)
    )
    return_visit_within_working_days: int = 3
    return_visit_sample_percent: int = 10  # of the services neither critical nor complaints
    return_visit_max_attempts: int = 3  # calls not reaching the customer before it is given up
    office_calendar_id: str = "default"  # return visits are made in office hours

    def link(self, token: str) -> str:
        return f"{self.public_base_url}/s/{token}"


# -------------------------------------------------------------- errors (mapped to 4xx pages / JSON)
class TokenUnknown(NotFound):
    code = "survey_token_unknown"


class SurveyAlreadyAnswered(Conflict):
    code = "survey_already_answered"


class SurveyExpired(DomainError):
    status = 410
    code = "survey_expired"


class SurveyNotOpen(Conflict):
    code = "survey_not_open"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


class AnswerInvalid(DomainError):
    """One or more fields are wrong; `errors` maps each field to an error code (see texts.py)."""

    code = "answer_invalid"

    def __init__(self, errors: dict[str, str], limits: dict[str, int]) -> None:
        detail = "; ".join(f"{f}: {c}" for f, c in errors.items())
        super().__init__(f"答卷有误 (answer invalid): {detail}", errors=errors)
        self.errors = errors
        self.limits = limits


# ---------------------------------------------------------------- invitation timing and eligibility
class Calendar(Protocol):
    def add_working_time(self, start: datetime, duration: timedelta) -> datetime: ...
    def add_working_days(self, start: datetime, days: int) -> datetime: ...


def invitation_due(calendar: Calendar, completed_at: datetime, policy: Policy) -> datetime:
    """The configured working-time delay after completion, never later than close of the n-th
    working day."""
    latest = calendar.add_working_days(completed_at, policy.invite_within_working_days)
    wanted = calendar.add_working_time(completed_at, timedelta(minutes=policy.invite_delay_minutes))
    return min(wanted, latest)


def customer_key(customer_id: str | None, phone: str | None, email: str | None) -> str | None:
    """Who counts as the same customer for the quiet period: the customer id, else the contact."""
    if customer_id:
        return f"id:{customer_id}"
    if phone:
        return "phone:" + re.sub(r"[^0-9+]", "", phone)
    if email:
        return f"email:{email.strip().lower()}"
    return None


def skip_reason(
    *, has_contact: bool, last_surveyed_at: datetime | None, completed_at: datetime, policy: Policy
) -> SkipReason | None:
    """Why this completion gets no survey, or None when it does."""
    if not has_contact:
        return SkipReason.NO_CONTACT
    if last_surveyed_at is not None and policy.quiet_days > 0:
        if abs(completed_at - last_surveyed_at) < timedelta(days=policy.quiet_days):
            return SkipReason.RECENTLY_SURVEYED
    return None


def completed_month(completed_at: datetime, timezone: str) -> str:
    """The report month (YYYY-MM, business time zone) a completion belongs to."""
    return completed_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


def check_open(status: str, expires_at: datetime | None, now: datetime) -> None:
    """Raise unless a customer may still answer on the page."""
    if status == SurveyStatus.ANSWERED:
        raise SurveyAlreadyAnswered("该调查已提交，感谢您的反馈 (this survey was already answered)")
    if status != SurveyStatus.INVITED:
        raise SurveyNotOpen(f"该调查当前不可填写 (survey is {status})")
    if expires_at is not None and now >= expires_at:
        raise SurveyExpired("该调查链接已过期 (this survey link has expired)")


# ---------------------------------------------------------------- answers
@dataclass(frozen=True)
class Answer:
    efficiency: int
    attitude: int
    professionalism: int
    recommend: int | None = None
    comment: str | None = None

    @property
    def scores(self) -> tuple[int, int, int]:
        return (self.efficiency, self.attitude, self.professionalism)


def _int_field(
    raw: Mapping[str, str | None],
    name: str,
    lo: int,
    hi: int,
    required: bool,
    errors: dict[str, str],
) -> int | None:
    value = (raw.get(name) or "").strip()
    if not value:
        if required:
            errors[name] = "required"
        return None
    if not re.fullmatch(r"[0-9]{1,3}", value):
        errors[name] = "not_integer"
        return None
    number = int(value)
    if not lo <= number <= hi:
        errors[name] = "out_of_range"
        return None
    return number


def validate_answer(raw: Mapping[str, str | None], comment_max_chars: int) -> Answer:
    """Turn submitted form fields into an Answer, or raise AnswerInvalid naming every wrong
    field."""
    errors: dict[str, str] = {}
    scores = {d: _int_field(raw, d, SCORE_MIN, SCORE_MAX, True, errors) for d in DIMENSIONS}
    recommend = _int_field(raw, "recommend", RECOMMEND_MIN, RECOMMEND_MAX, False, errors)
    comment = (raw.get("comment") or "").replace("\r\n", "\n").strip()
    if len(comment) > comment_max_chars:
        errors["comment"] = "too_long"
    elif any(ord(c) < 32 and c not in "\n\t" for c in comment):
        errors["comment"] = "control_chars"
    if errors:
        raise AnswerInvalid(
            errors, {"comment_max_chars": comment_max_chars, "comment_length": len(comment)}
        )
    return Answer(**scores, recommend=recommend, comment=comment or None)  # type: ignore[arg-type]


def is_low_score(answer: Answer, policy: Policy) -> bool:
    """A dimension at or below the threshold (or a low recommend, if configured) opens a
    follow-up."""
    if min(answer.scores) <= policy.low_score_threshold:
        return True
    limit = policy.low_recommend_threshold
    return limit is not None and answer.recommend is not None and answer.recommend <= limit


# ---------------------------------------------------------------- language
def negotiate_language(explicit: str | None, accept_language: str | None) -> str:
    """?lang= (or the form's lang) wins, then the browser's Accept-Language, else Chinese."""
    if explicit:
        choice = _match_language(explicit)
        if choice:
            return choice
    ranked: list[tuple[float, int, str]] = []
    for pos, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _, val = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(val)
                except ValueError:
                    q = 0.0
        choice = _match_language(tag)
        if choice and q > 0:
            ranked.append((-q, pos, choice))
    return sorted(ranked)[0][2] if ranked else DEFAULT_LANGUAGE


def _match_language(tag: str) -> str | None:
    tag = tag.strip().lower()
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


# ---------------------------------------------------------------- return visits (回访)
class VisitReason(StrEnum):
    CRITICAL = "critical"  # a 特急 ticket
    COMPLAINT = "complaint"
    SAMPLED = "sampled"  # one of the others, by the configured share


class VisitOutcome(StrEnum):
    """What one call found."""

    REACHED = "reached"  # the customer confirms the problem is solved
    NOT_REACHED = "not_reached"
    PROBLEM_PERSISTS = "problem_persists"  # reopens the work in tickets


class VisitStatus(StrEnum):
    OPEN = "open"
    DONE = "done"  # reached, solved or not
    UNREACHABLE = "unreachable"  # not reached after the allowed attempts


VISIT_NOTE_MAX = 1000


def visit_reason(
    request_type: str | None, urgency: str | None, ticket_no: str, sample_percent: int
) -> VisitReason | None:
    """Critical tickets and complaints always; the others sampled by a stable hash of the ticket
    number (a redelivered event decides the same)."""
    if urgency == "critical":
        return VisitReason.CRITICAL
    if request_type == "complaint":
        return VisitReason.COMPLAINT
    bucket = int(hashlib.sha256(ticket_no.encode()).hexdigest()[:8], 16) % 100
    return VisitReason.SAMPLED if bucket < sample_percent else None


def visit_result(outcome: VisitOutcome, attempts: int, max_attempts: int) -> VisitStatus:
    """The visit's status after a call: open while attempts remain for an unreached customer."""
    if outcome is VisitOutcome.NOT_REACHED:
        return VisitStatus.UNREACHABLE if attempts >= max_attempts else VisitStatus.OPEN
    return VisitStatus.DONE


def check_visit_call(
    outcome: VisitOutcome,
    note: str | None,
    called_at: datetime,
    completed_at: datetime,
    now: datetime,
) -> None:
    if called_at > now + CLOCK_SKEW:
        raise DomainError("回访时间不能晚于当前时间 (called_at cannot be in the future)")
    if called_at < completed_at:
        raise DomainError(
            "回访时间早于服务完成时间 (called_at is before the service was completed)"
        )
    if outcome is VisitOutcome.PROBLEM_PERSISTS and not (note and note.strip()):
        raise DomainError(
            "问题仍存在时须写明客户描述的问题 (describe the persisting problem in `note`: it "
            "reopens the work)"
        )
    if note and len(note) > VISIT_NOTE_MAX:
        raise DomainError(f"回访记录不能超过{VISIT_NOTE_MAX}字 (note too long)")


class VisitClosed(Conflict):
    code = "return_visit_closed"
