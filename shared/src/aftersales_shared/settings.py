"""Settings base every service extends with its own env prefix (built in a factory, never at
import)."""

from __future__ import annotations

import os
from ipaddress import ip_network
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .claims import ClaimMapping

DEFAULT_DATA_DIR = Path(".data")
DEV_JWT_SECRET = "aftersales-local-dev-secret-change-me"
# the launcher (`./dev up`) and the tests turn this on; production manifests never do
LOCAL_DEV_ENV = "AFTERSALES_LOCAL_DEV"
LOCAL_JWT_ISSUER = "aftersales-local"
LOCAL_JWT_AUDIENCE = "aftersales"
MIN_SECRET_BYTES = 32
_TRUE = {"1", "true", "yes", "on"}


class InsecureSettingsError(ValueError):
    """The service would run with settings an attacker could exploit; it refuses to start."""


def local_dev_from_env() -> bool:
    return os.environ.get(LOCAL_DEV_ENV, "").strip().lower() in _TRUE


class ServiceSettings(BaseSettings):
    """Common knobs; a subclass sets `service_name`, the env prefix and the default port."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: ClassVar[str] = ""
    default_port: ClassVar[int] = 8000

    host: str = "127.0.0.1"
    port: int = 0
    database_url: str = ""
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = Field(
        default=None,
        description=(
            "this service's NATS user (its permissions: "
            "shared/src/aftersales_shared/natsauth.py); required outside "
            "local development unless nats_creds_file is given"
        ),
    )
    nats_password: SecretStr | None = None
    nats_creds_file: Path | None = Field(
        default=None, description="a NATS .creds file (JWT + nkey) instead of a password"
    )
    nats_tls_ca_file: Path | None = Field(
        default=None, description="CA that signed the NATS server's certificate"
    )
    nats_tls_cert_file: Path | None = Field(
        default=None, description="client certificate, where NATS asks for one"
    )
    nats_tls_key_file: Path | None = None
    nats_tls_hostname: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR

    local_dev: bool = Field(
        default=False,
        description=(
            "local development: the published development JWT secret and the local "
            "issuer/audience are "
            "accepted (also turned on by AFTERSALES_LOCAL_DEV=1, as the launcher and the tests do)"
        ),
    )
    jwt_secret: str = DEV_JWT_SECRET
    jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    auth_claims: ClaimMapping = Field(
        default_factory=ClaimMapping,
        description=(
            "where tokens carry roles, groups and the dealer: AUTH_ROLES_CLAIM, AUTH_GROUPS_CLAIM, "
            "AUTH_GROUP_ROLES, AUTH_DEALER_ID_CLAIM — the same names in every service and the "
            "console (aftersales_shared.claims)"
        ),
    )
    jwt_max_lifetime_hours: float = Field(
        default=8.0,
        gt=0,
        le=24 * 30,
        description=(
            "tokens whose exp lies further than this after iat (or after now) are refused"
        ),
    )

    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For is believed; "
            "from any other "
            "peer the header is ignored (the ASGI server's own proxy-header handling is off)"
        ),
    )

    business_timezone: str = "Asia/Shanghai"
    stream_replicas: int = Field(default=1, ge=1, le=5)

    gc_gen0_threshold: int = Field(
        default=50_000,
        ge=0,
        description=(
            "service processes: allocations between young-generation collections after start-up "
            "objects are "
            "frozen; 0 leaves Python's garbage collector as it is"
        ),
    )
    outbox_batch_size: int = Field(default=200, ge=1, le=5000)
    outbox_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        description=(
            "the relay wakes right after a commit that wrote events; this is only how often it "
            "also looks for rows another process wrote (a command-line tool, a replica that died)"
        ),
    )
    outbox_linger_seconds: float = Field(
        default=0.0,
        ge=0,
        le=5,
        description=(
            "wait this long after a wake-up before publishing, so one relay round takes more events"
        ),
    )
    outbox_max_backoff_seconds: float = Field(default=5.0, gt=0)
    outbox_retention_days: float = Field(
        default=7.0,
        ge=0,
        description=(
            "published outbox rows older than this are deleted (JetStream keeps the events); 0 "
            "keeps them forever"
        ),
    )
    outbox_purge_every_seconds: float = Field(default=600.0, gt=0)

    consumer_max_deliver: int = Field(default=5, ge=1)
    consumer_backoff_seconds: list[float] = Field(default_factory=lambda: [1.0, 5.0, 30.0, 120.0])
    consumer_ack_wait_seconds: float = Field(default=60.0, gt=0)
    consumer_batch_size: int = Field(default=50, ge=1, le=1000)
    consumer_bulk_batch_size: int = Field(
        default=500,
        ge=1,
        le=5000,
        description=(
            "most messages a bulk consumer (a read model's: reports) takes from one pull and "
            "writes in one transaction"
        ),
    )
    consumer_fetch_seconds: float = Field(
        default=30.0,
        ge=1,
        le=60,
        description=(
            "how long one pull request waits at the server for a message (a new message ends it "
            "at once; a reconnect to NATS ends it too, so consumers resume at once after a "
            "restart)"
        ),
    )
    scheduler_max_sleep_seconds: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description=(
            "the scheduler sleeps until the next due job and wakes when this process arms a "
            "sooner one; this caps the sleep, for jobs armed by other processes"
        ),
    )

    log_json: bool = False
    log_level: str = "INFO"

    def model_post_init(self, __context: object) -> None:
        if not self.port:
            self.port = self.default_port
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"
        if not self.local_dev and local_dev_from_env():
            self.local_dev = True
        problems = self.security_problems()
        if problems:
            raise InsecureSettingsError(
                f"{self.service_name or 'service'} refuses to start: "
                + "; ".join(problems)
                + f" (for local development only: {LOCAL_DEV_ENV}=1)"
            )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {item!r} is not an address or network"
                ) from None
        return value

    @classmethod
    def offline(cls, **values: object) -> ServiceSettings:
        """Settings for a command that serves no request (migrations, calendar imports): no token is
        ever checked there, so the JWT rules do not apply."""
        return cls(local_dev=True, **values)  # type: ignore[arg-type]

    @property
    def env_prefix(self) -> str:
        return str(self.model_config.get("env_prefix") or "")

    def security_problems(self) -> list[str]:
        """What makes these settings unsafe outside local development (empty in local
        development)."""
        if self.local_dev:
            return []
        p, out = self.env_prefix, []
        if not self.jwks_url:
            if self.jwt_secret == DEV_JWT_SECRET:
                out.append(
                    f"{p}JWT_SECRET is the published development secret (set {p}JWT_SECRET or "
                    f"{p}JWKS_URL)"
                )
            elif len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
                out.append(f"{p}JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes")
        if not self.jwt_issuer:
            out.append(f"{p}JWT_ISSUER is not set (tokens of any issuer would be accepted)")
        if not self.jwt_audience:
            out.append(
                f"{p}JWT_AUDIENCE is not set (tokens meant for any audience would be accepted)"
            )
        if not self.nats_creds_file and not (
            self.nats_user and self.nats_password and self.nats_password.get_secret_value()
        ):
            out.append(
                f"no NATS credentials (set {p}NATS_USER and {p}NATS_PASSWORD, or "
                f"{p}NATS_CREDS_FILE)"
            )
        return out

    @property
    def effective_jwt_issuer(self) -> str | None:
        return self.jwt_issuer or (LOCAL_JWT_ISSUER if self.local_dev else None)

    @property
    def effective_jwt_audience(self) -> str | None:
        return self.jwt_audience or (LOCAL_JWT_AUDIENCE if self.local_dev else None)

    @property
    def nats_inbox_prefix(self) -> str:
        """Where replies to this service's NATS requests arrive (its user may read no other
        inbox)."""
        from .natsauth import inbox_prefix

        return inbox_prefix(self.nats_user or self.service_name)

    @property
    def durable_prefix(self) -> str:
        """Durable consumer names start with the consuming service's name."""
        return self.service_name

    def backoff_for(self, delivery: int) -> float:
        """Delay before the next redelivery after the given (1-based) failed delivery."""
        steps = self.consumer_backoff_seconds or [1.0]
        return steps[min(delivery, len(steps)) - 1]
