"""Settings of the dealers service (env prefix DEALERS_)."""

from decimal import Decimal
from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from aftersales_shared.settings import ServiceSettings

from .domain import DemotionRules, parse_return_dates


class DealersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEALERS_", extra="ignore")
    service_name: ClassVar[str] = "dealers"
    default_port: ClassVar[int] = 8105

    # old parts go back on fixed dates twice a year (MM-DD), or earlier with a delivery truck
    parts_return_dates: list[str] = Field(default_factory=lambda: ["06-30", "12-31"])
    card_reminder_days_before: int = Field(default=3, ge=1, le=19)
    measure_window_days: int = Field(default=180, ge=7, le=730)
    demotion_max_late_cards: int = Field(default=2, ge=0)
    demotion_max_late_returns: int = Field(default=1, ge=0)
    demotion_max_late_arrangements: int = Field(default=3, ge=0)
    demotion_max_sla_breaches: int = Field(default=5, ge=0)
    demotion_max_missing_stock_plans: int = Field(default=0, ge=0)
    demotion_min_mean_score: Decimal = Field(default=Decimal("3.50"), ge=1, le=5)
    demotion_min_surveys: int = Field(default=5, ge=1)

    @field_validator("parts_return_dates")
    @classmethod
    def _dates(cls, v: list[str]) -> list[str]:
        parse_return_dates(v)
        return v

    def return_dates(self) -> list[tuple[int, int]]:
        return parse_return_dates(self.parts_return_dates)

    def demotion_rules(self) -> DemotionRules:
        return DemotionRules(
            max_late_cards=self.demotion_max_late_cards,
            max_late_returns=self.demotion_max_late_returns,
            max_late_arrangements=self.demotion_max_late_arrangements,
            max_sla_breaches=self.demotion_max_sla_breaches,
            max_missing_stock_plans=self.demotion_max_missing_stock_plans,
            min_mean_score=self.demotion_min_mean_score,
            min_surveys_for_score=self.demotion_min_surveys,
        )
