"""Settings of the notifications service (env prefix NOTIFICATIONS_)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from aftersales_shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")
    service_name: ClassVar[str] = "notifications"
    default_port: ClassVar[int] = 8104
