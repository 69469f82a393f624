"""Settings of the tickets service (env prefix TICKETS_)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

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
