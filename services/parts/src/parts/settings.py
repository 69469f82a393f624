"""Settings of the parts service (env prefix PARTS_)."""

from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aftersales_shared.sealing import check_public_key, dev_public_key
from aftersales_shared.settings import ServiceSettings


class PartsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PARTS_", extra="ignore")
    service_name: ClassVar[str] = "parts"
    default_port: ClassVar[int] = 8108

    public_base_url: str = Field(
        default="", description="where customers open /q/<token> (quotes); default http://HOST:PORT"
    )
    quote_valid_days: int = Field(
        default=7, ge=1, le=90, description="a quote's link works this many calendar days"
    )
    default_tax_rate: Decimal = Field(
        default=Decimal("0.13"), ge=0, le=1, description="VAT rate of quotes and invoices"
    )
    guess_limit: int = Field(
        default=20, ge=1, description="unknown-token attempts per client IP and window"
    )
    guess_window_seconds: float = Field(default=900.0, gt=0)
    notifications_public_key: str = Field(
        default="",
        description="notifications' link public key (URL-safe base64): quote links leave sealed "
        "to it; local development uses the published development pair",
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
            problems.append("PARTS_NOTIFICATIONS_PUBLIC_KEY is not set (quote links are sealed)")
        elif not self.local_dev and self.notifications_public_key == dev_public_key():
            problems.append("PARTS_NOTIFICATIONS_PUBLIC_KEY is the published development key")
        return problems
