"""Settings of the parts service (env prefix PARTS_)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from aftersales_shared.settings import ServiceSettings


class PartsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PARTS_", extra="ignore")
    service_name: ClassVar[str] = "parts"
    default_port: ClassVar[int] = 8108
