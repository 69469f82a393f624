"""Fixtures of the reports tests: an app on a fresh database and events handed to its inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from litestar import Litestar
from reports.app import create_app
from reports.settings import ReportsSettings

from aftersales_shared.events import Envelope
from aftersales_testing.support import migrated, runtime_of


class ReportKit:
    """One reports app on its own database."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.rt = runtime_of(app)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """HTTP in-process without the broker (tests that need NATS use support.running)."""
        transport = httpx.ASGITransport(app=self.app)
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", timeout=60
            ) as client:
                yield client
        finally:
            await self.rt.engine.dispose()

    async def deliver(self, env: Envelope[Any]) -> bool:
        """Hand an event to the inbox as a delivery would (same transaction, same dedupe)."""
        sub = next(
            s for s in self.rt.inbox.subscriptions.values() if isinstance(env.data, s.accepts)
        )
        return await self.rt.inbox.handle(sub, env)


@pytest.fixture
def make_kit(databases: Any) -> Callable[..., Any]:
    """Build a ReportKit on a fresh migrated database; keyword arguments override settings."""

    async def make(**overrides: Any) -> ReportKit:
        settings = ReportsSettings(
            database_url=await migrated(databases, "reports"),
            **({"nats_url": "nats://127.0.0.1:1"} | overrides),
        )
        return ReportKit(create_app(settings))

    return make
