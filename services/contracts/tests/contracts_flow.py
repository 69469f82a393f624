"""Steps of the contracts journey through the HTTP API, with each department's own token."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy.exc import OperationalError

from aftersales_shared.scheduler import Scheduler
from aftersales_testing import natsaccess
from aftersales_testing.support import auth, credit_code, runtime_of, sign_body
from contracts.app import create_app
from contracts.messaging import register_jobs
from contracts.settings import ContractsSettings

REP = auth("sales", sub="rep-li", name="李销售")
OTHER_REP = auth("sales", sub="rep-zhao")
ASSISTANT = auth("sales", sub="assistant-wu")  # sales assistants hold the sales role
MANAGER = auth("sales_manager", sub="mgr-chen")
LEGAL = auth("legal", sub="legal-he")
FINANCE = auth("finance", sub="fin-sun")
DELIVERY = auth("delivery", sub="dlv-zhou")
ENGINEER = auth("engineer", sub="eng-ma")
REVIEWER = {"legal": LEGAL, "finance": FINANCE, "delivery": DELIVERY}
ALL_ITEMS = ["original", "customer_credentials", "requirement_form", "review_form"]
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")  # the default of settings.business_timezone


def uid() -> str:
    return uuid.uuid4().hex[:8].upper()


def code() -> str:
    return credit_code(uuid.uuid4().int % 10**9)


def app_on(url: str, nats_url: str, **kw: Any):  # type: ignore[no-untyped-def]
    return create_app(ContractsSettings(database_url=url, nats_url=nats_url, **kw))


def fake_scheduler(app: Any, at: datetime) -> Scheduler:
    """A scheduler on the app's database whose clock reads `at` (fires future deadlines now)."""
    s = Scheduler(runtime_of(app).sessions, clock=lambda: at)
    register_jobs(s)
    return s


async def fire_until_done(app: Any, kind: str, key: str, at: datetime, attempts: int = 20) -> int:
    """Run due jobs at `at` until (kind, key) is done; a failed try (SQLite's single writer) is
    retried later.

    Returns how many runs it took; the caller checks the job's effect happened exactly once."""
    from aftersales_shared.scheduler import job_status

    for attempt in range(attempts):
        try:
            await fake_scheduler(app, at + timedelta(minutes=10 * attempt)).run_due()
        except (
            OperationalError
        ):  # SQLite: a stale read snapshot cannot write (the app's relay wrote meanwhile)
            continue
        async with runtime_of(app).sessions() as s:
            if await job_status(s, kind, key) == "done":
                return attempt + 1
    raise AssertionError(f"job {kind} {key} did not fire")


def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, (
        f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    )
    return r.json()


async def new_customer(c: httpx.AsyncClient, cid: str | None = None) -> dict[str, Any]:
    body = {
        "customer_id": cid or f"C-{uid()}",
        "name": f"苏州精工机床有限公司{uid()}",
        "credit_code": code(),
        "contacts": [{"name": "王建国", "phone": "13800138001", "email": "wang@example.cn"}],
        "addresses": [{"kind": "registered", "address": "苏州工业园区星湖街 1 号"}],
    }
    return ok(await c.post("/customers", json=body, headers=REP), 201)


def draft(no: str, customer_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "contract_no": no,
        "customer_id": customer_id,
        "products": [
            {
                "model": "XK-200",
                "serial_no": f"{no}-SN1",
                "warranty_end": "2028-12-31",
                "batch_no": "B2026-10",
            },
            {"model": "XK-200", "serial_no": f"{no}-SN2", "warranty_end": "2028-12-31"},
        ],
        "service_levels": [
            {
                "urgency": "urgent",
                "response_minutes": 60,
                "resolution_minutes": 720,
                "onsite_minutes": 240,
                "loaner_after_minutes": 2880,
            }
        ],
        "terms": {
            "scope": ["repair", "replacement", "technical_support", "inspection"],
            "inspections_per_year": 4,
            "loaner_promised": True,
            "loaner_grade": "同档次 XK-200",
            "term_months": 24,
            "auto_renew": True,
            "price_components": [
                {"kind": "materials", "amount": "12000.00"},
                {"kind": "labour", "amount": "8000.50"},
                {"kind": "travel", "amount": "1500.00"},
            ],
            "payment_method": "bank_transfer",
            "payment_due_days": 30,
            "confidentiality_clause": "双方对合同内容及技术资料负有保密义务",
            "dispute_resolution": {"method": "arbitration", "venue": "上海国际仲裁中心"},
        },
        **extra,
    }


async def review_all(c: httpx.AsyncClient, no: str) -> dict[str, Any]:
    ok(await c.post(f"/contracts/{no}/submit", headers=REP))
    body: dict[str, Any] = {}
    for part, headers in REVIEWER.items():
        body = ok(
            await c.post(
                f"/contracts/{no}/reviews/{part}",
                json={"decision": "approve", "comments": f"{part} 同意"},
                headers=headers,
            )
        )
    assert body["status"] == "approved"
    return body


def signatures(sha: str, at: datetime | None = None) -> dict[str, Any]:
    at = at or datetime.now(UTC)
    return {
        "document_sha256": sha,
        "signatures": [
            {
                "party": "company",
                "signer": "销售经理 李明",
                "signed_at": at.isoformat(),
                "method": "seal",
            },
            {
                "party": "customer",
                "signer": "王建国",
                "signed_at": at.isoformat(),
                "method": "e_signature",
            },
        ],
    }


async def signed_contract(c: httpx.AsyncClient, no: str | None = None) -> dict[str, Any]:
    no = no or f"HT-{uid()}"
    customer = await new_customer(c)
    ok(await c.post("/contracts", json=draft(no, customer["customer_id"]), headers=REP), 201)
    approved = await review_all(c, no)
    return ok(
        await c.post(
            f"/contracts/{no}/sign", json=signatures(approved["document_sha256"]), headers=REP
        )
    )


class Watcher:
    """An outside subscriber on a contracts subject: sees only what is published after it starts."""

    def __init__(self, nats_url: str, subject: str) -> None:
        self.nats_url, self.subject = nats_url, subject

    async def __aenter__(self) -> Watcher:
        self.nc = await natsaccess.connect(self.nats_url)
        js = self.nc.jetstream()
        self.sub = await js.pull_subscribe(
            self.subject, config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        )
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.sub.unsubscribe()
        await self.nc.close()

    async def collect(
        self, key: str, want: int = 1, timeout: float = 20.0, settle: float = 0.0
    ) -> list[dict[str, Any]]:
        """Bodies of messages whose ce-subject is `key`: wait for `want`, then listen `settle` s
        more for extras."""
        found: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settle_until: float | None = None
        while loop.time() < (settle_until or deadline):
            try:
                msgs = await self.sub.fetch(50, timeout=0.3)
            except (TimeoutError, nats.errors.TimeoutError):
                msgs = []
            for m in msgs:
                await m.ack()
                if (m.headers or {}).get("ce-subject") == key:
                    found.append(json.loads(m.data) | {"_type": m.headers["ce-type"]})
            if len(found) >= want and settle_until is None:
                settle_until = loop.time() + settle
        assert len(found) >= want, (
            f"saw {len(found)} of {want} message(s) on {self.subject} for {key}"
        )
        return found


def later(**kw: float) -> datetime:
    return datetime.now(UTC) + timedelta(**kw)


async def sign_contract_in_session(session: Any, contract_no: str, sales: Any) -> Any:
    """The walk through review and signing by the use cases, inside one transaction (tests that
    bypass HTTP)."""
    from aftersales_shared.auth import Principal, Role
    from aftersales_shared.db import utcnow
    from contracts.domain import ReviewPart
    from contracts.http.contract_io import signing_of
    from contracts.schemas.contracts import SignIn
    from contracts.usecases import review, signing

    await review.submit_for_review(session, contract_no, sales, utcnow())
    for part in ReviewPart:
        reviewer = Principal(subject=f"{part.value}-reviewer", roles=frozenset({Role(part.value)}))
        row = await review.sign_off(
            session,
            contract_no,
            part,
            review.ReviewDecision(approved=True, comments="同意"),
            reviewer,
            utcnow(),
        )
    body = signing_of(SignIn.model_validate(sign_body(document_sha256=row.document_sha256)))
    return await signing.sign_contract(session, contract_no, body, sales, utcnow(), tz=BUSINESS_TZ)
