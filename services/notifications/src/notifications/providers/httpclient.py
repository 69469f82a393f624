"""The pooled HTTP client the SMS providers send with."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import yarl

from .base import TemporaryFailure


class HttpClient:
    """Pooled keep-alive HTTP/1.1 client for the SMS providers, created on first use (inside the
    loop).

    aiohttp: measured here at about a tenth of httpx's CPU per request, which decided the SMS side
    of the fan-out benchmark."""

    def __init__(
        self, timeout: float, headers: dict[str, str] | None = None, max_connections: int = 64
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = headers or {}
        self._limit = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """(status, body); raises TemporaryFailure when the server cannot be reached or does not
        answer."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers=self._headers,
                connector=aiohttp.TCPConnector(limit=self._limit),
                skip_auto_headers=("User-Agent",),
            )
        try:
            async with self._session.request(
                method, yarl.URL(url, encoded=True), data=body, headers=headers
            ) as resp:
                return resp.status, await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def json_object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
