"""Helpers for tests: polling with a deadline, tokens, migrated databases, running apps
in-process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar

from aftersales_shared.auth import mint_token
from aftersales_shared.migrations import upgrade
from aftersales_shared.service import Runtime
from aftersales_shared.settings import DEV_JWT_SECRET


async def wait_until(
    condition: Callable[[], Awaitable[Any]],
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
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


class Bearer(Mapping[str, str]):
    """An Authorization header minted afresh at each use, by the clock of that moment.

    Tests travel in time (aftersales_testing/clock.py): a token minted once at import would be "not
    yet valid" or expired at the moment a test travels to."""

    def __init__(self, sub: str, roles: list[str], claims: dict[str, Any]) -> None:
        self._sub, self._roles, self._claims = sub, roles, claims
        mint_token(
            DEV_JWT_SECRET, sub, roles, **claims
        )  # bad roles fail here, where the test names them

    def __getitem__(self, key: str) -> str:
        if key != "Authorization":
            raise KeyError(key)
        return f"Bearer {mint_token(DEV_JWT_SECRET, self._sub, self._roles, **self._claims)}"

    def __iter__(self) -> Iterator[str]:
        return iter(("Authorization",))

    def __len__(self) -> int:
        return 1

    def __or__(self, other: Mapping[str, str]) -> dict[str, str]:
        return dict(self) | dict(other)

    def __ror__(self, other: Mapping[str, str]) -> dict[str, str]:
        return dict(other) | dict(self)


def opened_link(event_body: dict[str, Any]) -> str:
    """The clear survey link of a SurveyRequested body: v2 carries it sealed to notifications, whose
    (local development) private key the tests hold; v1 carried it in clear."""
    from aftersales_shared.sealing import dev_private_key, unseal

    if "link_sealed" in event_body:
        return unseal(dev_private_key(), event_body["link_sealed"])
    return event_body["link"]


def auth(*roles: str, sub: str = "tester", **kw: Any) -> Bearer:
    return Bearer(sub, list(roles), kw)


async def migrated(databases: Any, package: str) -> str:
    url = await databases.new(package)
    await upgrade(package, url)
    return url


def runtime_of(app: Litestar) -> Runtime:
    return app.state["runtime"]


@asynccontextmanager
async def running(app: Litestar, wait_broker: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (broker, relay, consumers) in this loop and give an HTTP client to
    it."""
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=30
        ) as client:
            if wait_broker:
                rt = runtime_of(app)
                await wait_until(
                    lambda: _true(rt.broker_started), timeout=20, what="broker connected"
                )
            yield client


async def _true(value: bool) -> bool:
    return value


def credit_code(seed: int = 1) -> str:
    from contracts.domain import credit_code_check_char

    first17 = f"91310000{seed:09d}"
    return first17 + credit_code_check_char(first17)


def draft_body(
    contract_no: str, serials: list[str] | None = None, dealer_id: str | None = None
) -> dict[str, Any]:
    serials = serials or [f"{contract_no}-SN1"]
    return {
        "contract_no": contract_no,
        "customer": {
            "customer_id": f"C-{contract_no}",
            "name": "上海某某机械有限公司",
            "credit_code": credit_code(abs(hash(contract_no)) % 10**9),
            "contacts": [{"name": "王工", "phone": "13800138000", "email": "wang@example.com"}],
        },
        "products": [
            {"model": "XK-200", "serial_no": s, "warranty_end": "2028-12-31"} for s in serials
        ],
        "service_levels": [
            {"urgency": "urgent", "response_minutes": 60, "resolution_minutes": 720}
        ],
        "dealer_id": dealer_id,
    }


def sign_body(signed_at: str | None = None, document_sha256: str = "ab" * 32) -> dict[str, Any]:
    """Both parties' signatures; signing needs the reviewed version's hash and a time after its
    approval."""
    from datetime import UTC, datetime

    signed_at = signed_at or datetime.now(UTC).isoformat()
    return {
        "document_sha256": document_sha256,
        "signatures": [
            {"party": "company", "signer": "李经理", "signed_at": signed_at, "method": "seal"},
            {
                "party": "customer",
                "signer": "王总",
                "signed_at": signed_at,
                "method": "e_signature",
            },
        ],
    }


REVIEW_PARTS = ("legal", "finance", "delivery")


async def sign_contract_via_api(
    client: httpx.AsyncClient, contract_no: str, sales: dict[str, str] | None = None
) -> httpx.Response:
    """Take a draft through review (legal, finance, delivery each with their own token) and sign
    it."""
    sales = sales or auth("sales")
    r = await client.post(f"/contracts/{contract_no}/submit", headers=sales)
    assert r.status_code == 200, r.text
    for part in REVIEW_PARTS:
        r = await client.post(
            f"/contracts/{contract_no}/reviews/{part}",
            json={"decision": "approve", "comments": "同意"},
            headers=auth(part, sub=f"{part}-reviewer"),
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved", r.text
    return await client.post(
        f"/contracts/{contract_no}/sign",
        json=sign_body(document_sha256=r.json()["document_sha256"]),
        headers=sales,
    )


def sign_contract_via_http(base_url: str, contract_no: str) -> httpx.Response:
    """The same walk with a blocking client, for tests against a launched system."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        assert (
            client.post(f"/contracts/{contract_no}/submit", headers=auth("sales")).status_code
            == 200
        )
        for part in REVIEW_PARTS:
            r = client.post(
                f"/contracts/{contract_no}/reviews/{part}",
                json={"decision": "approve", "comments": "同意"},
                headers=auth(part, sub=f"{part}-reviewer"),
            )
            assert r.status_code == 200, r.text
        return client.post(
            f"/contracts/{contract_no}/sign",
            json=sign_body(document_sha256=r.json()["document_sha256"]),
            headers=auth("sales"),
        )


def contract_signed(contract_no: str, signed_at: str = "2026-11-20T02:00:00Z") -> Any:
    """A ContractSignedV1 envelope as contracts would publish it."""
    from aftersales_shared.events import ContractSignedV1, Envelope

    data = ContractSignedV1.model_validate(
        {
            "contract_no": contract_no,
            "signed_at": signed_at,
            "customer": {"customer_id": f"C-{contract_no}", "name": "测试客户", "contacts": []},
            "products": [
                {"model": "XK-200", "serial_no": f"{contract_no}-SN1", "warranty_end": "2028-12-31"}
            ],
            "service_levels": [
                {"urgency": "normal", "response_minutes": 1440, "resolution_minutes": 2880}
            ],
        }
    )
    return Envelope(data=data, source="/tests")


async def publish(nats_url: str, envelope: Any, msg_id: str | None = None) -> Any:
    """Publish an envelope with a plain nats-py client: as the `partners` user for a partner's
    subject (as a partner system would), else as a test that stands in for the producing service
    (admin)."""
    from aftersales_shared.natsauth import ADMIN, PARTNERS
    from aftersales_testing import natsaccess

    nc = await natsaccess.connect(
        nats_url, PARTNERS if envelope.nats_subject.startswith("partners.") else ADMIN
    )
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
