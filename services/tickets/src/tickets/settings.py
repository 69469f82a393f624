"""Settings of the tickets service (env prefix TICKETS_)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from aftersales_shared.settings import ServiceSettings


class TicketsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETS_", extra="ignore")
    service_name: ClassVar[str] = "tickets"
    default_port: ClassVar[int] = 8102
