"""Settings of the contracts service (env prefix CONTRACTS_)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from aftersales_shared.settings import ServiceSettings


class ContractsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTS_", extra="ignore")
    service_name: ClassVar[str] = "contracts"
    default_port: ClassVar[int] = 8101
