"""Settings of the surveys service (env prefix SURVEYS_)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aftersales_shared.sealing import check_public_key, dev_public_key
from aftersales_shared.settings import ServiceSettings

from .domain import Policy


class SurveysSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURVEYS_", extra="ignore")
    service_name: ClassVar[str] = "surveys"
    default_port: ClassVar[int] = 8103

    public_base_url: str = Field(
        default="", description="where customers open /s/<token>; default http://HOST:PORT"
    )
    calendar_id: str = Field(
        default="default", description="working-time calendar of the invitation deadline"
    )
    invite_delay_minutes: int = Field(
        default=60, ge=0, le=60 * 24, description="working minutes after completion"
    )
    invite_within_working_days: int = Field(
        default=1, ge=1, le=10, description="latest: close of this working day"
    )
    token_ttl_days: int = Field(default=14, ge=1, le=90)
    quiet_days: int = Field(
        default=30, ge=0, le=365, description="a customer surveyed this recently is skipped"
    )
    low_score_threshold: int = Field(
        default=2, ge=1, le=5, description="a dimension at or below it is a low score"
    )
    low_recommend_threshold: int | None = Field(default=None, ge=0, le=10)
    comment_max_chars: int = Field(default=500, ge=1, le=5000)
    guess_limit: int = Field(
        default=20, ge=1, description="unknown-token attempts per client IP and window"
    )
    guess_window_seconds: float = Field(default=900.0, gt=0)
    redact_after_seconds: float = Field(
        default=300.0, gt=0, description="then the sent link is blanked in the outbox"
    )
    return_visit_within_working_days: int = Field(
        default=3, ge=1, le=30, description="a return visit (回访) is due within these working days"
    )
    return_visit_sample_percent: int = Field(
        default=10,
        ge=0,
        le=100,
        description="share of completed services, neither critical nor complaints, visited",
    )
    return_visit_max_attempts: int = Field(
        default=3, ge=1, le=10, description="unanswered calls before a visit is given up"
    )
    office_calendar: str = Field(
        default="default", description="working-time calendar of return visits (office hours)"
    )
    notifications_public_key: str = Field(
        default="",
        description=(
            "notifications' link public key (URL-safe base64): survey links leave sealed to it; "
            "local development "
            "uses the published development pair"
        ),
    )

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        if not self.notifications_public_key and self.local_dev:
            self.notifications_public_key = dev_public_key()
        if self.notifications_public_key:
            check_public_key(self.notifications_public_key)
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"

    def security_problems(self) -> list[str]:
        problems = super().security_problems()
        if not self.local_dev and not self.notifications_public_key:
            problems.append(
                "SURVEYS_NOTIFICATIONS_PUBLIC_KEY is not set (survey links are sealed to "
                "notifications)"
            )
        elif not self.local_dev and self.notifications_public_key == dev_public_key():
            problems.append("SURVEYS_NOTIFICATIONS_PUBLIC_KEY is the published development key")
        return problems

    def policy(self) -> Policy:
        return Policy(
            invite_delay_minutes=self.invite_delay_minutes,
            invite_within_working_days=self.invite_within_working_days,
            token_ttl_days=self.token_ttl_days,
            quiet_days=self.quiet_days,
            low_score_threshold=self.low_score_threshold,
            low_recommend_threshold=self.low_recommend_threshold,
            comment_max_chars=self.comment_max_chars,
            public_base_url=self.public_base_url.rstrip("/"),
            calendar_id=self.calendar_id,
            timezone=self.business_timezone,
            redact_after_seconds=self.redact_after_seconds,
            notifications_public_key=self.notifications_public_key,
            return_visit_within_working_days=self.return_visit_within_working_days,
            return_visit_sample_percent=self.return_visit_sample_percent,
            return_visit_max_attempts=self.return_visit_max_attempts,
            office_calendar_id=self.office_calendar,
        )
