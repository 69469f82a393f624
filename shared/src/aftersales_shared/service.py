"""Wiring every service shares: database, broker, outbox relay, inbox, health, docs, auth,
errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from faststream.nats import NatsBroker
from litestar import Litestar, MediaType, Request, Response, get
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ControllerRouterHandler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from . import apidocs, correlation, openapidoc
from .asyncapidoc import asyncapi_json
from .auth import PUBLIC_PATHS, auth_middleware
from .correlation import CorrelationMiddleware
from .db import create_engine, session_factory
from .errors import DomainError
from .events import EventData
from .http import TYPE_DECODERS
from .inbox import Inbox
from .inputguard import InputGuardMiddleware
from .inputguard import exception_handlers as input_exception_handlers
from .logging import IdlePullIsNotAnError
from .natsauth import broker_options
from .outbox import OutboxRelay
from .pullkick import ReconnectKick
from .scheduler import Scheduler
from .settings import ServiceSettings
from .tasks import cancel_and_wait

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    """Everything a running service holds: built once per app from its settings."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: NatsBroker
    relay: OutboxRelay
    inbox: Inbox
    scheduler: Scheduler
    publishes: list[type[EventData]] = field(default_factory=list)
    background: list[asyncio.Task[Any]] = field(default_factory=list)
    startup_hooks: list[Callable[[Runtime], Awaitable[None]]] = field(default_factory=list)
    broker_started: bool = False
    kick: ReconnectKick = field(default_factory=ReconnectKick)

    def jetstream(self) -> Any:
        return self.broker.config.connection_state.stream

    def nats_connected(self) -> bool:
        state = self.broker.config.connection_state
        return bool(state) and state.connection.is_connected


def broker_logger(service: str) -> logging.Logger:
    """FastStream's logger for this service: its records go through the app's handlers (not
    FastStream's own coloured one) and an idle pull that timed out is not reported as an ERROR
    (IdlePullIsNotAnError)."""
    logger = logging.getLogger(f"aftersales.broker.{service}")
    if not any(isinstance(f, IdlePullIsNotAnError) for f in logger.filters):
        logger.addFilter(IdlePullIsNotAnError())
    return logger


def build_runtime(settings: ServiceSettings, publishes: Sequence[type[EventData]] = ()) -> Runtime:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    kick = ReconnectKick()  # long idle pull requests, yet consumers resume at once after a restart
    broker = NatsBroker(
        settings.nats_url,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=3,
        allow_reconnect=True,
        name=f"aftersales-{settings.service_name}",
        graceful_timeout=10,
        reconnected_cb=kick.reconnected,
        logger=broker_logger(settings.service_name),
        **broker_options(settings),
    )
    for cls in publishes:
        broker.publisher(cls.subject(), schema=cls, title=cls.ce_type(), description=cls.__doc__)
    relay = OutboxRelay(
        engine,
        lambda: broker.config.connection_state.stream,
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
        max_backoff_seconds=settings.outbox_max_backoff_seconds,
        linger_seconds=settings.outbox_linger_seconds,
        retention=timedelta(days=settings.outbox_retention_days)
        if settings.outbox_retention_days
        else None,
        purge_every_seconds=settings.outbox_purge_every_seconds,
    )
    relay.watch(sessions)
    inbox = Inbox(settings=settings, sessions=sessions)
    scheduler = Scheduler(sessions, max_sleep_seconds=settings.scheduler_max_sleep_seconds)
    scheduler.watch(sessions)
    return Runtime(
        settings, engine, sessions, broker, relay, inbox, scheduler, list(publishes), kick=kick
    )


async def _start_broker(rt: Runtime) -> None:
    """Connect to NATS, retrying until it answers; HTTP serves (and /ready says no) meanwhile."""
    delay = 0.2
    while True:
        try:
            await rt.broker.connect()
            state = rt.broker.config.connection_state
            await rt.inbox.ensure_consumers(state.stream)
            await rt.inbox.watch_max_deliveries(state.connection, state.stream)
            await rt.broker.start()
            rt.kick.wrap_all(rt.broker.subscribers)
            rt.inbox.bulk.start(state.stream, rt.kick)
            rt.broker_started = True
            rt.relay.start()
            log.info(
                "broker.started",
                service=rt.settings.service_name,
                subscriptions=len(rt.inbox.subscriptions),
            )
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("broker.connect_failed", error=str(exc), retry_in=delay)
            try:
                await rt.broker.stop()
            except Exception:
                pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def lifespan(rt: Runtime):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def _lifespan(app: Litestar) -> AsyncIterator[None]:
        for hook in rt.startup_hooks:
            await hook(rt)
        starter = asyncio.create_task(_start_broker(rt), name="broker-start")
        rt.scheduler.start()
        try:
            yield
        finally:
            await cancel_and_wait(starter, *rt.background)
            await rt.inbox.bulk.stop()
            await rt.relay.stop()
            await rt.scheduler.stop()
            if rt.broker_started:
                await rt.broker.stop()
            await rt.engine.dispose()

    return _lifespan


def _ops_handlers(rt: Runtime) -> list[ControllerRouterHandler]:
    @get("/health", sync_to_thread=False, include_in_schema=True, tags=["ops"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "service": rt.settings.service_name}

    @get("/ready", tags=["ops"], summary="Readiness: database and NATS")
    async def ready() -> Response[dict[str, Any]]:
        checks: dict[str, str] = {}
        try:
            async with rt.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {exc}"
        checks["nats"] = "ok" if rt.broker_started and rt.nats_connected() else "not connected"
        ok = all(v == "ok" for v in checks.values())
        body = {
            "status": "ready" if ok else "not ready",
            "service": rt.settings.service_name,
            "checks": checks,
        }
        return Response(body, status_code=200 if ok else HTTP_503_SERVICE_UNAVAILABLE)

    @get(
        "/asyncapi.json",
        tags=["ops"],
        summary="AsyncAPI document of this service's events",
        media_type=MediaType.JSON,
    )
    async def asyncapi() -> Response[Any]:
        return Response(json.loads(asyncapi_json(rt)), media_type=MediaType.JSON)

    return [health, ready, asyncapi]


def _domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return Response(
        {"status_code": exc.status, "code": exc.code, "detail": exc.message, **exc.extra},
        status_code=exc.status,
    )


def _unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """HTTP errors keep their status; anything else is logged with its traceback and answered
    500."""
    if isinstance(exc, HTTPException):
        body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.detail}
        if exc.extra:
            body["extra"] = exc.extra
        return Response(body, status_code=exc.status_code, headers=exc.headers)
    log.exception("http.unhandled_error", path=request.url.path, method=request.method)
    return Response(
        {
            "status_code": 500,
            "detail": "Internal Server Error",
            "correlation_id": correlation.current(),
        },
        status_code=500,
    )


def _validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    return Response(
        {"status_code": 400, "code": "invalid_request", "detail": exc.detail, "errors": exc.extra},
        status_code=400,
    )


def provided(values: Mapping[str, object]) -> dict[str, Provide]:
    """Constant values for Litestar's dependency injection (resolved once, no worker thread)."""

    def constant(value: object) -> Callable[[], object]:
        def provide() -> object:  # no parameters: Litestar would take them for request inputs
            return value

        return provide

    return {
        name: Provide(constant(value), sync_to_thread=False, use_cache=True)
        for name, value in values.items()
    }


def create_service_app(
    rt: Runtime,
    *,
    route_handlers: Sequence[ControllerRouterHandler],
    description: str,
    public_prefixes: tuple[str, ...] = (),
    debug: bool = False,
    dependencies: Mapping[str, object] | None = None,
) -> Litestar:
    """One Litestar app: ops endpoints, API docs, JWT auth, metrics, domain errors → 4xx.

    Controllers are classes at module level; what they need comes by Litestar's dependency
    injection: a handler parameter ``rt: Runtime`` gets this runtime, ``settings`` the service's
    settings, and each name in ``dependencies`` its value (a policy, a rate limiter…). Dependencies
    never appear in the OpenAPI document."""
    name = rt.settings.service_name
    rt.inbox.bind(rt.broker)
    openapi = OpenAPIConfig(
        title=f"Aftersales {name}",
        version="1.0.0",
        description=description,
        path="/schema",
        render_plugins=[apidocs.docs_plugin()],  # served from the service's own files: no CDN
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
        security=[{"BearerToken": []}],
    )
    prometheus = PrometheusConfig(app_name=name, prefix=f"aftersales_{name}", group_path=True)
    from .deadletters import dead_letter_controller

    app = Litestar(
        route_handlers=[
            *_ops_handlers(rt),
            PrometheusController,
            dead_letter_controller(rt.inbox),
            apidocs.assets_router(),
            *route_handlers,
        ],
        lifespan=[lifespan(rt)],
        middleware=[
            InputGuardMiddleware,
            CorrelationMiddleware,
            auth_middleware(rt.settings, public_prefixes),
            prometheus.middleware,
            openapidoc.AllowHeaderMiddleware,
        ],
        openapi_config=openapi,
        exception_handlers={
            DomainError: _domain_error,
            ValidationException: _validation_error,
            **input_exception_handlers(),
            Exception: _unexpected_error,
        },
        debug=debug,
        type_decoders=TYPE_DECODERS,
        state={"runtime": rt},
        dependencies=provided({"rt": rt, "settings": rt.settings, **(dependencies or {})}),
    )
    openapidoc.install(app, (*PUBLIC_PATHS, *public_prefixes))
    return app


__all__ = [
    "HTTPException",
    "Runtime",
    "build_runtime",
    "create_service_app",
    "asyncapi_json",
    "provided",
]
