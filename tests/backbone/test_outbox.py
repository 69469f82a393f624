"""Outbox against real NATS and the real database: rollback never publishes; an outage loses
nothing."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from contracts_flow import BUSINESS_TZ, sign_contract_in_session
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy import func, select

from aftersales_shared.auth import Principal, Role
from aftersales_shared.db import create_engine, inbox, outbox, utcnow
from aftersales_shared.outbox import OutboxRelay, enqueue
from aftersales_shared.streams import apply_streams, stream_for_subject
from aftersales_testing import natsaccess
from aftersales_testing.support import (
    CallCounter,
    contract_signed,
    draft_body,
    migrated,
    running,
    runtime_of,
    sign_body,
    wait_until,
)
from contracts.app import create_app as contracts_app
from contracts.http.contracts import new_draft, signing_of
from contracts.schemas.contracts import ContractDraftIn, SignIn
from contracts.settings import ContractsSettings
from contracts.usecases import drafting, signing
from tickets.app import create_app as tickets_app
from tickets.models import EntitlementRow
from tickets.settings import TicketsSettings

SALES = Principal(subject="sales-1", roles=frozenset({Role.SALES}))


async def _streams(url: str) -> None:
    nc = await natsaccess.connect(url)
    await apply_streams(nc.jetstream())
    await nc.close()


async def _stream_event_ids(url: str, subject: str) -> list[str]:
    """Every ce-id stored on a subject: as many as the stream says it holds, read with an ephemeral
    consumer."""
    nc = await natsaccess.connect(url)
    js = nc.jetstream()
    stream = stream_for_subject(subject).name
    info = await js.stream_info(stream, subjects_filter=subject)
    expected = (info.state.subjects or {}).get(subject, 0)
    sub = await js.pull_subscribe(subject, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL))
    ids: list[str] = []
    deadline = asyncio.get_running_loop().time() + 20
    try:
        while len(ids) < expected and asyncio.get_running_loop().time() < deadline:
            try:
                msgs = await sub.fetch(500, timeout=1)
            except TimeoutError:  # nats raises both its own and asyncio's
                continue
            ids += [m.headers["ce-id"] for m in msgs]
            for m in msgs:
                await m.ack()
    finally:
        await sub.unsubscribe()
        await nc.close()
    assert len(ids) == expected, f"read {len(ids)} of the {expected} messages on {subject}"
    return ids


async def _sign_one(rt, no: str) -> None:
    async with rt.sessions.begin() as session:
        await drafting.create_draft(
            session,
            new_draft(ContractDraftIn.model_validate(draft_body(no))),
            SALES,
            utcnow(),
            tz=BUSINESS_TZ,
        )
        await sign_contract_in_session(session, no, SALES)


async def test_event_of_rolled_back_transaction_is_never_published(databases, own_nats):
    await _streams(own_nats.url)
    app = contracts_app(
        ContractsSettings(
            database_url=await migrated(databases, "contracts"), nats_url=own_nats.url
        )
    )
    rt = runtime_of(app)
    doomed, kept = contract_signed("ROLLBACK-1"), contract_signed("KEPT-1")
    async with running(app):
        with pytest.raises(RuntimeError):
            async with rt.sessions.begin() as session:
                await enqueue(session, doomed)
                raise RuntimeError("the state change failed")
        # a failed use case (bad input) rolls back its event too
        from aftersales_shared.errors import DomainError

        with pytest.raises(DomainError):
            async with rt.sessions.begin() as session:
                await signing.sign_contract(
                    session,
                    "NO-SUCH",
                    signing_of(SignIn.model_validate(sign_body())),
                    SALES,
                    utcnow(),
                    tz=BUSINESS_TZ,
                )
        async with rt.sessions.begin() as session:
            await enqueue(session, kept)
        await wait_until(lambda: _published(rt, kept.id), what="kept event published")
        ids = await _stream_event_ids(own_nats.url, kept.nats_subject)
    assert ids == [kept.id]
    async with rt.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(outbox)) == 1


async def _published(rt, event_id: str) -> bool:
    async with rt.sessions() as s:
        return bool(await s.scalar(select(outbox.c.published_at).where(outbox.c.id == event_id)))


@pytest.mark.long(100)
@pytest.mark.timeout(600)  # 600 signings one by one: minutes when the suite's workers share 2 cores
async def test_nats_killed_during_a_burst_nothing_lost_nothing_doubled(databases, own_nats):
    """kill -9 NATS in the middle of 600 signings; after the restart every event is handled
    once."""
    await _streams(own_nats.url)
    c_app = contracts_app(
        ContractsSettings(
            database_url=await migrated(databases, "contracts"),
            nats_url=own_nats.url,
            outbox_max_backoff_seconds=0.5,
        )
    )
    t_app = tickets_app(
        TicketsSettings(database_url=await migrated(databases, "tickets"), nats_url=own_nats.url)
    )
    counter = CallCounter(
        runtime_of(t_app).inbox.subscriptions["tickets-contracts-contract_signed-v1"]
    )
    c_rt, t_rt = runtime_of(c_app), runtime_of(t_app)
    run = uuid.uuid4().hex[:6]
    numbers = [f"K{run}-{i:04d}" for i in range(600)]
    async with running(c_app), running(t_app):
        for no in numbers[:200]:
            await _sign_one(c_rt, no)
        own_nats.kill()  # kill -9 while events are still being relayed
        for no in numbers[200:]:
            await _sign_one(c_rt, no)  # commits go on without NATS
        async with c_rt.sessions() as s:  # (review steps are events too: count the signings)
            signed = outbox.c.subject == "contracts.contract_signed.v1"
            assert await s.scalar(select(func.count()).select_from(outbox).where(signed)) == 600
        await asyncio.sleep(0.5)
        own_nats.start()

        async def all_handled():
            async with t_rt.sessions() as s:
                return await s.scalar(select(func.count()).select_from(EntitlementRow)) == 600

        await wait_until(all_handled, timeout=120, interval=0.2, what="600 entitlements in tickets")
        async with c_rt.sessions() as s:
            unsent = await s.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        assert unsent == 0
        async with t_rt.sessions() as s:
            handled = set((await s.scalars(select(EntitlementRow.contract_no))).all())
            inbox_rows = await s.scalar(select(func.count()).select_from(inbox))
        assert handled == set(numbers)
        assert inbox_rows == 600
        await asyncio.sleep(1.0)  # late redeliveries, if any, must not add effects
        assert counter.successes == 600


async def test_two_relays_never_publish_the_same_row(databases, own_nats, db_kind):
    if db_kind != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED needs PostgreSQL; SQLite runs a single relay")
    await _streams(own_nats.url)
    url = await migrated(databases, "contracts")
    engine = create_engine(url)
    events = [contract_signed(f"R2-{i}") for i in range(600)]
    async with engine.begin() as conn:
        for env in events:
            await enqueue(conn, env)
    nc = await natsaccess.connect(own_nats.url)
    js = nc.jetstream()
    relays = [OutboxRelay(create_engine(url), lambda: js, batch_size=50) for _ in range(2)]
    try:
        totals = await asyncio.gather(*(_drain(r) for r in relays))
    finally:
        await nc.close()
    assert sum(totals) == 600
    assert all(t > 0 for t in totals), f"both replicas should have worked: {totals}"
    ids = await _stream_event_ids(own_nats.url, events[0].nats_subject)
    assert sorted(ids) == sorted(e.id for e in events)
    await engine.dispose()


async def _drain(relay: OutboxRelay) -> int:
    total = 0
    while True:
        n = await relay.publish_pending()
        total += n
        if n == 0:
            return total
        await asyncio.sleep(0)


async def test_published_rows_past_the_retention_are_purged_unpublished_ones_never(databases):
    from datetime import timedelta

    engine = create_engine(await migrated(databases, "contracts"))
    relay = OutboxRelay(engine, lambda: None, retention=timedelta(days=7))  # type: ignore[arg-type,return-value]
    now = utcnow()
    rows = {  # id: (created, published)
        "old-sent": (now - timedelta(days=9), now - timedelta(days=8)),
        "old-sent-2": (now - timedelta(days=30), now - timedelta(days=30)),
        "recent-sent": (now - timedelta(days=2), now - timedelta(days=1)),
        "old-unsent": (
            now - timedelta(days=40),
            None,
        ),  # NATS away for weeks: still to be published
    }
    async with engine.begin() as conn:
        for row_id, (created, published) in rows.items():
            await conn.execute(
                outbox.insert().values(
                    id=row_id,
                    subject="x",
                    headers="{}",
                    body=b"",
                    created_at=created,
                    published_at=published,
                    attempts=0,
                )
            )
    assert (
        await relay.purge(now, chunk=1) == 2
    )  # chunked: one row per transaction, until none is left
    async with engine.connect() as conn:
        left = set((await conn.execute(select(outbox.c.id))).scalars())
    assert left == {"recent-sent", "old-unsent"}
    assert await relay.purge(now) == 0
    assert (
        await OutboxRelay(engine, lambda: None).purge(now + timedelta(days=365)) == 0
    )  # no retention: kept  # type: ignore[arg-type,return-value]
    await engine.dispose()
