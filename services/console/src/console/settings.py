"""Settings of the console (env prefix CONSOLE_): where the services answer, how people sign in,
how the session cookie is kept."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from pydantic import Field, SecretStr

from aftersales_shared.settings import ServiceSettings

DEV_SESSION_SECRET = "aftersales-console-local-dev-session-secret"


class ConsoleSettings(ServiceSettings):
    """The console owns no business data (`database_url` is unused). It listens to NATS as its own
    user `console` (CONSOLE_NATS_URL, CONSOLE_NATS_USER, CONSOLE_NATS_PASSWORD or
    CONSOLE_NATS_CREDS_FILE, the TLS settings) for live updates (console.live)."""

    model_config = ServiceSettings.model_config | {"env_prefix": "CONSOLE_"}
    service_name: ClassVar[str] = "console"
    default_port: ClassVar[int] = 8107

    contracts_url: str = "http://127.0.0.1:8101"
    tickets_url: str = "http://127.0.0.1:8102"
    surveys_url: str = "http://127.0.0.1:8103"
    notifications_url: str = "http://127.0.0.1:8104"
    dealers_url: str = "http://127.0.0.1:8105"
    reports_url: str = "http://127.0.0.1:8106"
    parts_url: str = "http://127.0.0.1:8108"
    upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    session_secret: SecretStr = Field(
        default=SecretStr(DEV_SESSION_SECRET),
        description="key of the encrypted session cookie and the CSRF tokens (at least 32 bytes)",
    )
    session_hours: float = Field(
        default=8.0, gt=0, le=24, description="a session (and the token it holds) lasts this long"
    )
    cookie_secure: bool = Field(
        default=False,
        description="send the cookies over HTTPS only (always on behind the production ingress)",
    )
    # OpenID Connect (authorisation code + PKCE), the production sign-in: a later slice reads these
    oidc_issuer: str | None = Field(default=None, description="the IdP's issuer URL")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_url: str | None = Field(
        default=None, description="https://<console>/auth/callback as registered at the IdP"
    )
    oidc_post_logout_redirect_url: str | None = Field(
        default=None,
        description="where the IdP sends the browser after signing out (RP-initiated logout); "
        "default: the console's /login",
    )
    oidc_renew_seconds: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="renew the access token with the refresh token when less than this is left",
    )
    page_size: int = Field(default=25, ge=5, le=200)
    live_stream_seconds: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="an open page's event stream ends after this long and the browser reconnects "
        "(the session is checked again)",
    )

    @property
    def dev_sign_in(self) -> bool:
        """The sign-in page listing the demo users (tokens minted with jwt_secret): local
        development only, never in production."""
        return self.local_dev

    def security_problems(self) -> list[str]:
        """Outside local development: a real session secret and a way to sign in. The console
        verifies no token itself (the services do); it listens to NATS as its own user."""
        if self.local_dev:
            return []
        p, out = self.env_prefix, []
        secret = self.session_secret.get_secret_value()
        if secret == DEV_SESSION_SECRET or len(secret.encode()) < 32:
            out.append(f"{p}SESSION_SECRET is the development one or shorter than 32 bytes")
        if not (self.oidc_issuer and self.oidc_client_id):
            out.append(f"{p}OIDC_ISSUER and {p}OIDC_CLIENT_ID are not set (nobody could sign in)")
        if not self.nats_creds_file and not (
            self.nats_user and self.nats_password and self.nats_password.get_secret_value()
        ):
            out.append(
                f"no NATS credentials for live updates (set {p}NATS_USER and {p}NATS_PASSWORD, "
                f"or {p}NATS_CREDS_FILE)"
            )
        return out

    def session_key(self) -> bytes:
        """The cookie's AES-GCM key: 32 bytes derived from the configured secret."""
        return hashlib.sha256(self.session_secret.get_secret_value().encode()).digest()

    def upstream(self, service: str) -> str:
        return str(getattr(self, f"{service}_url")).rstrip("/")
