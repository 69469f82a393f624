"""Settings of the contracts service (env prefix CONTRACTS_)."""

from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aftersales_shared.settings import ServiceSettings


class ContractsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTS_", extra="ignore")
    service_name: ClassVar[str] = "contracts"
    default_port: ClassVar[int] = 8101

    quote_discount_limit_pct: Decimal = Field(
        default=Decimal("10"),
        ge=0,
        le=100,
        description="a line discount above this needs a sales manager's approval",
    )
    office_calendar: str = Field(
        default="default", description="calendar for internal deadlines of 24x7 contracts"
    )
