"""Helpers for tests: polling with a deadline, tokens, migrated databases, running apps in-process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
import httpx

from aftersales_shared.auth import mint_token
from aftersales_shared.migrations import upgrade
from aftersales_shared.service import Runtime
from aftersales_shared.settings import DEV_JWT_SECRET


async def wait_until(
    condition: Callable[[], Awaitable[Any]], timeout: float = 30.0, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll an async condition until it is truthy; fail naming `what` after the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await condition()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")


def auth(*roles: str, sub: str = "tester", **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, sub, list(roles), **kw)}"}


async def migrated(databases: Any, package: str) -> str:
    url = await databases.new(package)
    await upgrade(package, url)
    return url


def runtime_of(app: Litestar) -> Runtime:
    return app.state["runtime"]


@asynccontextmanager
async def running(app: Litestar, wait_broker: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (broker, relay, consumers) in this loop and give an HTTP client to it."""
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as client:
            if wait_broker:
                rt = runtime_of(app)
                await wait_until(lambda: _true(rt.broker_started), timeout=20, what="broker connected")
            yield client


async def _true(value: bool) -> bool:
    return value


def credit_code(seed: int = 1) -> str:
    from contracts.domain import credit_code_check_char

    first17 = f"91310000{seed:09d}"
    return first17 + credit_code_check_char(first17)


def draft_body(contract_no: str, serials: list[str] | None = None, dealer_id: str | None = None) -> dict[str, Any]:
    serials = serials or [f"{contract_no}-SN1"]
    return {
        "contract_no": contract_no,
        "customer": {
            "customer_id": f"C-{contract_no}",
            "name": "上海某某机械有限公司",
            "credit_code": credit_code(abs(hash(contract_no)) % 10**9),
            "contacts": [{"name": "王工", "phone": "13800138000", "email": "wang@example.com"}],
        },
        "products": [{"model": "XK-200", "serial_no": s, "warranty_end": "2028-12-31"} for s in serials],
        "service_levels": [{"urgency": "urgent", "response_minutes": 60, "resolution_minutes": 720}],
        "dealer_id": dealer_id,
    }


def sign_body(signed_at: str = "2026-11-20T10:00:00+08:00") -> dict[str, Any]:
    return {
        "document_sha256": "ab" * 32,
        "signatures": [
            {"party": "company", "signer": "李经理", "signed_at": signed_at, "method": "seal"},
            {"party": "customer", "signer": "王总", "signed_at": signed_at, "method": "e_signature"},
        ],
    }


def contract_signed(contract_no: str, signed_at: str = "2026-11-20T02:00:00Z") -> Any:
    """A ContractSignedV1 envelope as contracts would publish it."""
    from aftersales_shared.events import ContractSignedV1, Envelope

    data = ContractSignedV1.model_validate(
        {
            "contract_no": contract_no,
            "signed_at": signed_at,
            "customer": {"customer_id": f"C-{contract_no}", "name": "测试客户", "contacts": []},
            "products": [{"model": "XK-200", "serial_no": f"{contract_no}-SN1", "warranty_end": "2028-12-31"}],
            "service_levels": [{"urgency": "normal", "response_minutes": 1440, "resolution_minutes": 2880}],
        }
    )
    return Envelope(data=data, source="/tests")


async def publish(nats_url: str, envelope: Any, msg_id: str | None = None) -> Any:
    """Publish an envelope with a plain nats-py client, as a partner system would."""
    import nats

    nc = await nats.connect(nats_url)
    try:
        headers = envelope.headers()
        if msg_id:
            headers["Nats-Msg-Id"] = msg_id
        return await nc.jetstream().publish(envelope.nats_subject, envelope.body(), headers=headers)
    finally:
        await nc.close()


class CallCounter:
    """Wraps a subscription's handler, counting calls that returned without error."""

    def __init__(self, sub: Any, fail_with: Exception | None = None) -> None:
        self.sub = sub
        self.original = sub.handler
        self.fail_with = fail_with
        self.calls = 0
        self.successes = 0
        sub.handler = self

    async def __call__(self, session: Any, env: Any) -> None:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        await self.original(session, env)
        self.successes += 1
