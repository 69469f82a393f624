"""Settings of the tickets service (env prefix TICKETS_)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aftersales_shared.sealing import check_public_key, dev_public_key
from aftersales_shared.settings import ServiceSettings


class TicketsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETS_", extra="ignore")
    service_name: ClassVar[str] = "tickets"
    default_port: ClassVar[int] = 8102

    sla_warning_fraction: float = Field(default=0.75, gt=0, lt=1)
    escalate_after_hours: float = Field(
        default=4.0, gt=0, description="breach + N hours → management"
    )
    reopen_window_days: float = Field(default=7.0, gt=0)
    low_score_follow_up: bool = True
    ticket_prefix: str = "SV"
    complaint_owner: str = Field(
        default="sup-zhang",
        min_length=1,
        max_length=100,
        description="the supervisor who owns a complaint that arrives without one (partner "
        "systems, low survey scores, an agent's intake)",
    )
    complaint_supervisors: list[str] = Field(
        default_factory=list,
        description="the other supervisors a complaint may be given to (a supervisor may always "
        "take one over herself); JSON list",
    )
    public_base_url: str = Field(
        default="", description="where customers open /c/<token>; default http://HOST:PORT"
    )
    complaint_link_ttl_days: int = Field(
        default=14, ge=1, le=90, description="how long a proposed resolution's link works"
    )
    guess_limit: int = Field(
        default=20, ge=1, description="unknown-token attempts per client IP and window"
    )
    guess_window_seconds: float = Field(default=900.0, gt=0)
    notifications_public_key: str = Field(
        default="",
        description=(
            "notifications' link public key (URL-safe base64): complaint links leave sealed to it; "
            "local development uses the published development pair"
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
        self.public_base_url = self.public_base_url.rstrip("/")

    def security_problems(self) -> list[str]:
        problems = super().security_problems()
        if not self.local_dev and not self.notifications_public_key:
            problems.append(
                "TICKETS_NOTIFICATIONS_PUBLIC_KEY is not set (complaint links are sealed to "
                "notifications)"
            )
        elif not self.local_dev and self.notifications_public_key == dev_public_key():
            problems.append("TICKETS_NOTIFICATIONS_PUBLIC_KEY is the published development key")
        return problems

    def complaint_owners(self) -> frozenset[str]:
        """The supervisors a complaint may be given to without taking it over oneself."""
        return frozenset({self.complaint_owner, *self.complaint_supervisors})
