"""Settings of the dealers service (env prefix DEALERS_)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from aftersales_shared.settings import ServiceSettings


class DealersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEALERS_", extra="ignore")
    service_name: ClassVar[str] = "dealers"
    default_port: ClassVar[int] = 8105
