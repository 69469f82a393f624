"""A correlation id that follows a request through the events it causes (and theirs), in logs
too."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import Any

import structlog

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)
HEADER = "x-request-id"


def current() -> str | None:
    return _current.get()


def bind(correlation_id: str | None) -> None:
    _current.set(correlation_id)
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id)


class CorrelationMiddleware:
    """Takes X-Request-ID from the caller (or makes one), binds it, and returns it on the
    response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(HEADER.encode())
        cid = incoming.decode("latin-1")[:100] if incoming else uuid.uuid4().hex
        token = _current.set(cid)
        structlog.contextvars.bind_contextvars(correlation_id=cid)

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.encode(), cid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
            structlog.contextvars.unbind_contextvars("correlation_id")
