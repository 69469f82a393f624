"""The services' HTTP APIs, called with the signed-in user's token (the console owns no data)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from aftersales_shared.calendars import ALWAYS_OPEN, builtin_calendar
from aftersales_shared.workcalendar import BusinessHours, CalendarDataError, WorkCalendar

from .settings import ConsoleSettings

CALENDAR_TTL_SECONDS = 60.0


class SignedOut(Exception):
    """The service refused the session's token (expired, revoked): sign in again."""


class UpstreamError(Exception):
    """A service answered with an error or not at all; the page says which and why."""

    def __init__(self, service: str, status: int, detail: str, body: Any = None) -> None:
        super().__init__(f"{service}: {status} {detail}")
        self.service, self.status, self.detail = service, status, detail
        self.body = body  # the service's JSON answer (e.g. an import's line-numbered errors)


@dataclass
class Upstream:
    """One pooled HTTP client per service (a test hands in a transport to an app in-process)."""

    settings: ConsoleSettings
    transport: httpx.AsyncBaseTransport | None = None
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    calendars: dict[str, WorkCalendar] = field(default_factory=dict)
    calendars_at: float = 0.0

    def client(self, service: str) -> httpx.AsyncClient:
        if service not in self.clients:
            self.clients[service] = httpx.AsyncClient(
                base_url=self.settings.upstream(service),
                transport=self.transport,
                timeout=self.settings.upstream_timeout_seconds,
            )
        return self.clients[service]

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()

    async def get(
        self, service: str, path: str, token: str, params: dict[str, Any] | None = None
    ) -> Any:
        return await self._call(service, "GET", path, token, params=params)

    async def post(self, service: str, path: str, token: str, body: dict[str, Any]) -> Any:
        """A state change as the signed-in user (the service authorises it and writes its
        events through its outbox)."""
        return await self._call(service, "POST", path, token, json=body)

    async def send(
        self, service: str, method: str, path: str, token: str, body: dict[str, Any] | None = None
    ) -> Any:
        """A state change by any method (PUT, PATCH, DELETE) as the signed-in user."""
        return await self._call(service, method, path, token, json=body)

    async def _call(self, service: str, method: str, path: str, token: str, **kw: Any) -> Any:
        response = await self.raw(service, method, path, token, "application/json", **kw)
        return response.json() if response.content else None

    async def raw(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        accept: str = "*/*",
        content_type: str | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """The service's answer as it is (a file to hand on: the report's PDF, XLSX, CSV); a
        file sent as the body with its `content_type` (a receipt, an Excel import)."""
        headers = {"Authorization": f"Bearer {token}", "Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = await self.client(service).request(method, path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            raise UpstreamError(service, 503, f"无法连接 (unreachable): {exc}") from exc
        if response.status_code == 401:
            raise SignedOut(response.text)
        if response.status_code >= 400:
            raise UpstreamError(service, response.status_code, _detail(response), _json(response))
        return response

    async def healthy(self, service: str) -> bool:
        try:
            return (await self.client(service).get("/health")).status_code == 200
        except httpx.HTTPError:
            return False

    async def calendar(self, calendar_id: str, token: str) -> WorkCalendar:
        """The ticket calendar's working hours from the tickets API (kept a minute); the national
        holiday tables come with the shared library. Until read (or if the caller may not read
        calendars): the built-in default."""
        if time.monotonic() - self.calendars_at > CALENDAR_TTL_SECONDS:
            try:
                listed = await self.get("tickets", "/calendars", token)
            except UpstreamError:
                listed = None
            if listed is not None:
                self.calendars = {c["id"]: _calendar(c) for c in listed}
                self.calendars_at = time.monotonic()
        found = self.calendars.get(calendar_id)
        if found is None:
            found = builtin_calendar(calendar_id, self.settings.business_timezone)
        return found


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        detail = str(body.get("detail") or body)
        extra = body.get("extra")
        if isinstance(extra, list):  # a validation error: what each field needs
            said = [f"{e.get('key', '')} {e.get('message', '')}".strip() for e in extra[:5]]
            detail = "；".join([detail, *(s for s in said if s)])
        return detail[:500]
    return str(body)[:300]


def _interval(item: dict[str, Any]) -> tuple[dtime, dtime]:
    return dtime.fromisoformat(str(item["start"])), dtime.fromisoformat(str(item["end"]))


def _calendar(data: dict[str, Any]) -> WorkCalendar:
    """A WorkCalendar from the tickets API's CalendarOut."""
    tz = ZoneInfo(data.get("timezone") or "Asia/Shanghai")
    if data.get("always_open") or data.get("id") == ALWAYS_OPEN:
        return WorkCalendar(tz=tz, always_open=True)
    try:
        weekly: dict[int, list[tuple[dtime, dtime]]] = {d: [] for d in range(7)}
        for item in data.get("hours") or []:
            weekly[int(item["weekday"])].append(_interval(item))
        workday = [_interval(i) for i in data.get("workday_hours") or []] or None
        hours = BusinessHours(
            weekly={d: sorted(v) for d, v in weekly.items()}, workday_hours=workday
        )
    except (KeyError, ValueError, CalendarDataError):
        return WorkCalendar(tz=tz)
    return WorkCalendar(tz=tz, hours=hours)
