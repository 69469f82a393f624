"""Liveness and readiness: ready when the tickets service (the board's source) answers. The live
feed's NATS connection is reported (`live`: ok or connecting) but does not hold readiness up:
the pages work without it, they just do not update by themselves."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from ..live import LiveFeed
from ..upstream import Upstream

# what the pages of this slice cannot work without
NEEDED = ("tickets",)


@get("/health", sync_to_thread=False, include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok", "service": "console"}


@get("/ready", include_in_schema=False)
async def ready(
    upstream: NamedDependency[Upstream], feed: NamedDependency[LiveFeed]
) -> Response[dict[str, Any]]:
    checks = {name: "ok" if await upstream.healthy(name) else "unreachable" for name in NEEDED}
    ok = all(v == "ok" for v in checks.values())
    checks["live"] = "ok" if feed.connected else "connecting"
    body = {"status": "ready" if ok else "not ready", "service": "console", "checks": checks}
    return Response(body, status_code=200 if ok else HTTP_503_SERVICE_UNAVAILABLE)
