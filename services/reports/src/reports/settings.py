"""Settings of the reports service (env prefix REPORTS_)."""

from datetime import time
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aftersales_shared.settings import ServiceSettings

from .domain import Policy


class ReportsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTS_", extra="ignore")
    service_name: ClassVar[str] = "reports"
    default_port: ClassVar[int] = 8106

    calendar_id: str = Field(
        default="default",
        description="working-time calendar response and resolution times are measured on",
    )
    abnormal_sigmas: float = Field(
        default=3.0,
        gt=0,
        le=10,
        description="a batch is abnormal above its model's rate by this many standard errors",
    )
    abnormal_min_failures: int = Field(
        default=2, ge=1, le=100, description="a batch with fewer failures is never flagged"
    )
    ageing_buckets_days: list[int] = Field(
        default=[3, 7, 14, 30], description="backlog ageing buckets (calendar days, ascending)"
    )

    publish_at: time = Field(
        default=time(9, 0),
        description="local time (business time zone) on the first working day of a month when the "
        "previous month's report is generated and sent (ReportPublished)",
    )
    schedule_enabled: bool = Field(
        default=True, description="generate and send each month's report on schedule"
    )
    public_base_url: str = Field(
        default="", description="where recipients open the kept report; default http://HOST:PORT"
    )

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        self.public_base_url = self.public_base_url.rstrip("/")

    def policy(self) -> Policy:
        return Policy(
            timezone=self.business_timezone,
            calendar_id=self.calendar_id,
            abnormal_sigmas=self.abnormal_sigmas,
            abnormal_min_failures=self.abnormal_min_failures,
            ageing_buckets_days=tuple(sorted(self.ageing_buckets_days)),
        )
