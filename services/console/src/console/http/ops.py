"""Liveness and readiness: ready when the tickets service (the board's source) answers."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from ..upstream import Upstream

# what the pages of this slice cannot work without
NEEDED = ("tickets",)


@get("/health", sync_to_thread=False, include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok", "service": "console"}


@get("/ready", include_in_schema=False)
async def ready(upstream: NamedDependency[Upstream]) -> Response[dict[str, Any]]:
    checks = {name: "ok" if await upstream.healthy(name) else "unreachable" for name in NEEDED}
    ok = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ok else "not ready", "service": "console", "checks": checks}
    return Response(body, status_code=200 if ok else HTTP_503_SERVICE_UNAVAILABLE)
