"""Helpers of the notifications tests: an app wired to local SMTP and SMS servers, event
builders."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from local_providers import LocalSmsGateway, LocalSmtpServer
from sqlalchemy import func, select

from aftersales_shared.db import outbox
from aftersales_shared.events import (
    Envelope,
    SlaBreachedV1,
    SlaEscalatedV1,
    SlaWarningV1,
    TicketAssignedV1,
    TicketOpenedV1,
)
from aftersales_shared.streams import apply_streams
from aftersales_testing import natsaccess
from aftersales_testing.support import auth, migrated, runtime_of
from notifications.app import create_app
from notifications.providers.gateway import HttpGatewaySms
from notifications.providers.smtp import SmtpEmail
from notifications.settings import NotificationsSettings


async def streams(nats_url: str) -> None:
    nc = await natsaccess.connect(nats_url)
    try:
        await apply_streams(nc.jetstream(), replicas=1)
    finally:
        await nc.close()


async def make_app(
    databases: Any, nats_url: str, smtp: LocalSmtpServer, gw: LocalSmsGateway, **overrides: Any
):
    settings = NotificationsSettings(
        database_url=await migrated(databases, "notifications"),
        nats_url=nats_url,
        email_provider="smtp",
        smtp_port=smtp.port,
        smtp_timeout_seconds=2,
        sms_provider="http",
        sms_http_url=f"{gw.url}/sms",
        default_quiet_hours=None,
        retry_base_seconds=0.2,
        retry_max_seconds=1.0,
        delivery_max_attempts=60,
        consumer_backoff_seconds=[0.2, 0.5],
        **overrides,
    )
    return create_app(
        settings, SmtpEmail(settings), HttpGatewaySms(settings.sms_http_url or "", None, 3)
    )


def uid() -> str:
    return uuid.uuid4().hex[:8]


def phone(n: int | None = None) -> str:
    n = uuid.uuid4().int % 10**8 if n is None else n
    return f"139{n:08d}"


def ticket_opened(
    ref: str,
    *,
    email: str | None = None,
    tel: str | None = None,
    urgency: str = "normal",
    **kw: Any,
) -> Envelope[TicketOpenedV1]:
    now = datetime.now(UTC)
    data = TicketOpenedV1(
        ticket_id=f"t-{ref}",
        ticket_no=f"SV-{ref}",
        opened_at=now,
        channel="phone",
        request_type="quality_issue",
        urgency=urgency,
        description="主轴异响，需要上门检查",
        customer_name="苏州精工机床有限公司",
        contact={"name": "王建国", "phone": tel, "email": email},
        response_due=now + timedelta(hours=2),
        **kw,
    )
    return Envelope(data=data, source="/tests", subject=f"SV-{ref}")


def sla_breached(ref: str, level: int = 1, assignee: str | None = None) -> Envelope[SlaBreachedV1]:
    now = datetime.now(UTC)
    return Envelope(
        data=SlaBreachedV1(
            ticket_id=f"t-{ref}",
            ticket_no=f"SV-{ref}",
            clock="response",
            deadline=now - timedelta(minutes=5),
            breached_at=now,
            overdue_seconds=300,
            urgency="urgent",
            escalation_level=level,
            assignee_id=assignee,
        ),
        source="/tests",
        subject=f"SV-{ref}",
    )


def sla_escalated(ref: str, assignee: str | None = None) -> Envelope[SlaEscalatedV1]:
    now = datetime.now(UTC)
    return Envelope(
        data=SlaEscalatedV1(
            ticket_id=f"t-{ref}",
            ticket_no=f"SV-{ref}",
            clock="response",
            deadline=now - timedelta(hours=4),
            escalated_at=now,
            overdue_seconds=4 * 3600,
            escalation_level=2,
            urgency="urgent",
            assignee_id=assignee,
        ),
        source="/tests",
        subject=f"SV-{ref}",
    )


def sla_warning(ref: str, assignee: str | None = None) -> Envelope[SlaWarningV1]:
    now = datetime.now(UTC)
    return Envelope(
        data=SlaWarningV1(
            ticket_id=f"t-{ref}",
            ticket_no=f"SV-{ref}",
            clock="resolution",
            deadline=now + timedelta(hours=1),
            warned_at=now,
            fraction=0.75,
            urgency="normal",
            assignee_id=assignee,
        ),
        source="/tests",
        subject=f"SV-{ref}",
    )


def ticket_assigned(
    ref: str, assignee: str, urgency: str = "normal", **kw: Any
) -> Envelope[TicketAssignedV1]:
    return Envelope(
        data=TicketAssignedV1(
            ticket_id=f"t-{ref}",
            ticket_no=f"SV-{ref}",
            assigned_at=datetime.now(UTC),
            assignee_id=assignee,
            assignee_kind="engineer",
            assigned_by="sup-1",
            urgency=urgency,
            customer_name="苏州精工机床有限公司",
            contact={"name": "王建国", "phone": phone()},
            **kw,
        ),
        source="/tests",
        subject=f"SV-{ref}",
    )


async def deliveries(client: Any, headers: dict[str, str], **filters: Any) -> list[dict[str, Any]]:
    r = await client.get("/deliveries", params={"limit": 500, **filters}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def outbox_count(app: Any, subject: str) -> int:
    async with runtime_of(app).sessions() as s:
        return (
            await s.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.subject == subject)
            )
            or 0
        )


def recipient(rid: str, **kw: Any) -> dict[str, Any]:
    return {"id": rid, "name": f"测试{rid}", "phone": phone(), "email": f"{rid}@example.com", **kw}


_READER = auth("service_supervisor", sub="sup-1")


async def all_deliveries(client: Any, n: int, **filters: Any) -> list[dict[str, Any]] | None:
    """Exactly n deliveries matching the filters, or None (for wait_until)."""
    rows = await deliveries(client, _READER, **filters)
    if len(rows) != n:
        all_deliveries.last = (filters, await deliveries(client, _READER))  # type: ignore[attr-defined]
        return None
    return rows


async def outbox_at_least(app: Any, subject: str, n: int) -> bool:
    return await outbox_count(app, subject) >= n


def sample(name: str, cls: Any = None) -> Envelope[Any]:
    """The producer's saved sample of an event (its oldest version unless `cls` names one)."""
    from aftersales_shared.events import registry
    from aftersales_shared.events.compat import SAMPLES_DIR
    from notifications.rules import CONSUMED

    cls = cls or CONSUMED[name][0]
    raw = json.loads((SAMPLES_DIR / f"{cls.ce_type()}.json").read_text("utf-8"))
    return registry.decode(raw["headers"], json.dumps(raw["body"]).encode())


def from_sample(name: str, **update: Any) -> Envelope[Any]:
    """The saved sample of the newest version of that event, as a new event (fresh id)."""
    from notifications.rules import CONSUMED

    saved = sample(name, CONSUMED[name][-1])
    return Envelope(data=saved.data.model_copy(update=update), subject=saved.subject)
