"""Settings base every service extends with its own env prefix (built in a factory, never at import)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".data")
DEV_JWT_SECRET = "aftersales-local-dev-secret-change-me"


class ServiceSettings(BaseSettings):
    """Common knobs; a subclass sets `service_name`, the env prefix and the default port."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: ClassVar[str] = ""
    default_port: ClassVar[int] = 8000

    host: str = "127.0.0.1"
    port: int = 0
    database_url: str = ""
    nats_url: str = "nats://127.0.0.1:4222"
    data_dir: Path = DEFAULT_DATA_DIR

    jwt_secret: str = DEV_JWT_SECRET
    jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None

    business_timezone: str = "Asia/Shanghai"
    stream_replicas: int = Field(default=1, ge=1, le=5)

    gc_gen0_threshold: int = Field(default=50_000, ge=0, description=(
        "service processes: allocations between young-generation collections after start-up objects are "
        "frozen; 0 leaves Python's garbage collector as it is"))
    outbox_batch_size: int = Field(default=200, ge=1, le=5000)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_linger_seconds: float = Field(default=0.0, ge=0, le=5, description=(
        "wait this long after a wake-up before publishing, so one relay round takes more events"))
    outbox_max_backoff_seconds: float = Field(default=5.0, gt=0)
    outbox_retention_days: float = Field(default=7.0, ge=0, description=(
        "published outbox rows older than this are deleted (JetStream keeps the events); 0 keeps them forever"))
    outbox_purge_every_seconds: float = Field(default=600.0, gt=0)

    consumer_max_deliver: int = Field(default=5, ge=1)
    consumer_backoff_seconds: list[float] = Field(default_factory=lambda: [1.0, 5.0, 30.0, 120.0])
    consumer_ack_wait_seconds: float = Field(default=60.0, gt=0)
    consumer_batch_size: int = Field(default=50, ge=1, le=1000)

    log_json: bool = False
    log_level: str = "INFO"

    def model_post_init(self, __context: object) -> None:
        if not self.port:
            self.port = self.default_port
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"

    @property
    def durable_prefix(self) -> str:
        """Durable consumer names start with the consuming service's name."""
        return self.service_name

    def backoff_for(self, delivery: int) -> float:
        """Delay before the next redelivery after the given (1-based) failed delivery."""
        steps = self.consumer_backoff_seconds or [1.0]
        return steps[min(delivery, len(steps)) - 1]
