"""Wiring of the console: templates, its own static files, the encrypted session cookie, CSRF on
every form, the services' APIs behind one pooled client each, the live feed from NATS."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from aftersales_shared.inputguard import InputGuardMiddleware
from aftersales_shared.service import provided

from .http import CONTROLLERS
from .http.pages import EXCEPTION_HANDLERS
from .live import LiveFeed
from .oidc import OidcClient, OidcError
from .people import SessionUser
from .settings import ConsoleSettings
from .upstream import Upstream

HERE = Path(__file__).parent
log = logging.getLogger("console.session")
# every asset is served from here: no CDN (factory networks in China reach none)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _headers(response: Response[Any]) -> Response[Any]:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _static_cache(response: Response[Any]) -> Response[Any]:
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _renewing(oidc: OidcClient) -> Any:
    """Before each request: an OpenID Connect session whose access token is about to expire gets
    a new one with its refresh token; when the IdP refuses, the session ends (the page then asks
    to sign in again)."""

    async def renew(request: Request) -> None:
        session = request.scope.get("session")
        now = time.time()
        user = SessionUser.from_session(session if isinstance(session, dict) else None, now)
        if user is None or not oidc.due_for_renewal(user, now):
            return
        try:
            renewed = await oidc.renew(user)
        except OidcError as exc:
            log.info("console session ended: the IdP refused its refresh token (%s)", exc.en)
            request.clear_session()
            return
        request.set_session(renewed.as_session())

    return renew


def create_app(
    settings: ConsoleSettings,
    transport: httpx.AsyncBaseTransport | None = None,
    oidc_transport: httpx.AsyncBaseTransport | None = None,
) -> Litestar:
    """`transport` (tests): reach the services in-process instead of over the network;
    `oidc_transport` the same for the identity provider."""
    upstream = Upstream(settings, transport)
    oidc = OidcClient(settings, oidc_transport)
    feed = LiveFeed(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await feed.start()
        try:
            yield
        finally:
            await feed.stop()
            await upstream.close()

    session = CookieBackendConfig(
        secret=settings.session_key(),
        key="console_session",
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    csrf = CSRFConfig(
        secret=settings.session_secret.get_secret_value(),
        cookie_name="console_csrf",
        cookie_httponly=True,
        cookie_samesite="lax",
        cookie_secure=settings.cookie_secure,
        exclude=["/static", "/metrics"],
    )
    static = create_static_files_router(
        path="/static", directories=[HERE / "static"], include_in_schema=False
    )
    static.after_request = _static_cache
    prometheus = PrometheusConfig(app_name="console", prefix="aftersales_console", group_path=True)
    return Litestar(
        route_handlers=[*CONTROLLERS, static, PrometheusController],
        middleware=[InputGuardMiddleware, session.middleware, prometheus.middleware],
        csrf_config=csrf,
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=_renewing(oidc),
        after_request=_headers,
        lifespan=[lifespan],
        openapi_config=None,
        dependencies=provided(
            {"settings": settings, "upstream": upstream, "oidc": oidc, "feed": feed}
        ),
    )
