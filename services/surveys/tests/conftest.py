"""Fixtures of the surveys tests: an app on a fresh database, ServiceCompleted events, links from
the outbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select, text

from aftersales_shared.db import outbox
from aftersales_shared.events import Envelope, ServiceCompletedV1
from aftersales_testing.support import migrated, opened_link, runtime_of
from surveys.app import create_app
from surveys.models import AnswerRow, SurveyRow
from surveys.settings import SurveysSettings


class SurveyKit:
    """One surveys app on its own database plus the helpers the tests share."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.rt = runtime_of(app)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """HTTP in-process without the broker (tests that need NATS use support.running)."""
        transport = httpx.ASGITransport(app=self.app, client=("203.0.113.7", 50000))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", timeout=30
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

    async def survey_of(self, ticket_id: str) -> SurveyRow | None:
        async with self.rt.sessions() as session:
            return await session.scalar(select(SurveyRow).where(SurveyRow.ticket_id == ticket_id))

    async def count_surveys(self, ticket_id: str) -> int:
        async with self.rt.sessions() as session:
            return (
                await session.scalar(
                    select(func.count())
                    .select_from(SurveyRow)
                    .where(SurveyRow.ticket_id == ticket_id)
                )
                or 0
            )

    async def count_answers(self, survey_id: str) -> int:
        async with self.rt.sessions() as session:
            return (
                await session.scalar(
                    select(func.count())
                    .select_from(AnswerRow)
                    .where(AnswerRow.survey_id == survey_id)
                )
                or 0
            )

    async def events(self, name: str, ticket_no: str) -> list[dict[str, Any]]:
        """Bodies of the outbox rows of one event type about one ticket."""
        async with self.rt.sessions() as session:
            rows = (
                await session.execute(
                    select(outbox.c.headers, outbox.c.body).order_by(outbox.c.created_at)
                )
            ).all()
        out = []
        for headers, body in rows:
            h = json.loads(headers)
            if (
                h["ce-type"].startswith(f"cn.aftersales.surveys.{name}.v")
                and h.get("ce-subject") == ticket_no
            ):
                out.append(json.loads(body))
        return out

    async def link_path(self, ticket_no: str) -> str:
        """Path of the survey link SurveyRequested carried (the only place the token exists)."""
        (event,) = await self.events("SurveyRequested", ticket_no)
        return "/s/" + opened_link(event).rsplit("/s/", 1)[1]

    async def invite(self, **kw: Any) -> tuple[ServiceCompletedV1, str]:
        """A completed ticket whose invitation was sent; returns the event and the link path."""
        env = completed(**kw)
        assert await self.deliver(env)
        assert await self.rt.scheduler.run_due() >= 1
        return env.data, await self.link_path(env.data.ticket_no)

    async def sql(self, statement: str, **params: Any) -> None:
        async with self.rt.engine.begin() as conn:
            await conn.execute(text(statement), params)


def completed(
    *,
    ticket_no: str | None = None,
    customer_id: str | None = None,
    completed_at: datetime | None = None,
    phone: str | None = "13800138000",
    email: str | None = None,
    **extra: Any,
) -> Envelope[ServiceCompletedV1]:
    """A ServiceCompletedV1 envelope as tickets publishes it (unique ticket and customer unless
    given)."""
    ref = uuid.uuid4().hex[:8]
    data = {
        "ticket_id": str(uuid.uuid4()),
        "ticket_no": ticket_no or f"SV-{ref}",
        "completed_at": (
            completed_at or datetime.now(UTC) - timedelta(hours=1)
        ).isoformat(),  # by the test's clock
        "request_type": "quality_issue",
        "channel": "phone",
        "customer_id": customer_id if customer_id is not None else f"C-{ref}",
        "customer_name": "苏州精工机床有限公司",
        "contact": {"name": "王建国", "phone": phone, "email": email},
        "confirmed_by": "王建国",
        "confirmation_method": "signature",
        "engineer_id": "eng-zhang",
        "dealer_id": "D-ZJ-01",
        "product_model": "XK-200",
    } | extra
    return Envelope(data=ServiceCompletedV1.model_validate(data), source="/tests")


@pytest.fixture
def make_kit(databases: Any) -> Callable[..., Any]:
    """Build a SurveyKit on a fresh migrated database; keyword arguments override settings."""

    async def make(**overrides: Any) -> SurveyKit:
        defaults = {
            "nats_url": "nats://127.0.0.1:1",
            "public_base_url": "https://survey.example.cn",
            "invite_delay_minutes": 0,
        }
        settings = SurveysSettings(
            database_url=await migrated(databases, "surveys"), **(defaults | overrides)
        )
        return SurveyKit(create_app(settings))

    return make


@pytest.fixture
def make_completed() -> Callable[..., Envelope[ServiceCompletedV1]]:
    return completed
