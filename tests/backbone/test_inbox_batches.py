"""Inbox batch handlers (group commit): events handled together, once each; a poison event fails
alone."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from aftersales_shared.db import create_engine, inbox, session_factory
from aftersales_shared.events import ContractSignedV1
from aftersales_shared.groupcommit import GroupCommit
from aftersales_shared.inbox import Inbox
from aftersales_testing.support import contract_signed, migrated
from tickets.settings import TicketsSettings


async def _inbox(databases):
    url = await migrated(databases, "tickets")  # any service's schema has the messaging tables
    engine = create_engine(url)
    settings = TicketsSettings(
        database_url=url, nats_url="nats://127.0.0.1:1", consumer_batch_size=50
    )
    return engine, Inbox(settings=settings, sessions=session_factory(engine))


async def test_batch_handler_sees_events_together_once_each_and_a_poison_event_fails_alone(
    databases,
):
    engine, box = await _inbox(databases)
    batches: list[list[str]] = []
    poison = contract_signed(f"BAD-{uuid.uuid4().hex[:6]}")

    @box.handles_batch(ContractSignedV1)
    async def handle(session, envs):
        batches.append([e.data.contract_no for e in envs])
        if any(e.id == poison.id for e in envs):
            raise RuntimeError("poison")

    [sub] = box.subscriptions.values()
    good = [contract_signed(f"OK-{uuid.uuid4().hex[:6]}-{i}") for i in range(12)]

    async def pull(envs):  # FastStream handles a pulled batch concurrently
        return await asyncio.gather(
            *(box.process(sub, e.headers(), e.body(), 1, e.nats_subject) for e in envs)
        )

    try:
        first = await pull([*good[:6], good[0]])  # good[0] delivered twice in the same pull
        assert [o.result for o in first] == ["handled"] * 6 + ["duplicate"]
        assert batches == [
            [e.data.contract_no for e in good[:6]]
        ]  # one transaction, each event once

        outcomes = await pull([good[6], good[7], poison, good[0], *good[8:]])
        results = [o.result for o in outcomes]
        assert results[2] == "retry" and not outcomes[2].ack  # the poison event, alone
        assert results[3] == "duplicate"  # good[0] again
        assert results.count("handled") == 6 and all(
            o.ack for i, o in enumerate(outcomes) if i != 2
        )
        assert len(batches[1]) == 7  # handled together first; that transaction failed
        assert [poison.data.contract_no] in batches[2:]  # then each on its own
        async with engine.connect() as conn:
            ids = (
                (
                    await conn.execute(
                        select(inbox.c.event_id).where(inbox.c.consumer == sub.consumer)
                    )
                )
                .scalars()
                .all()
            )
        assert sorted(ids) == sorted(
            e.id for e in good
        )  # each good event recorded once; the poison one not

        again = await box.process(sub, good[3].headers(), good[3].body(), 2, good[3].nats_subject)
        assert again.ack and again.result == "duplicate"

        # past max_deliver the poison event becomes a dead letter instead of another retry
        last = await box.process(
            sub,
            poison.headers(),
            poison.body(),
            box.settings.consumer_max_deliver,
            poison.nats_subject,
        )
        assert last.ack and last.result == "dead_lettered"
    finally:
        await engine.dispose()


async def test_group_commit_runs_at_most_the_allowed_transactions_at_once(databases):
    engine, _ = await _inbox(databases)
    sessions = session_factory(engine)
    running = 0
    most = 0
    sizes: list[int] = []

    async def write(session, items):
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1
        sizes.append(len(items))
        return [i * 2 for i in items]

    try:
        for concurrency in (1, 2):
            most, sizes[:] = 0, []
            group = GroupCommit(sessions, write, max_batch=8, concurrency=concurrency)
            results = await asyncio.gather(*(group.submit(i) for i in range(40)))
            assert results == [i * 2 for i in range(40)]
            assert most == concurrency
            assert (
                sum(sizes) == 40 and max(sizes) == 8
            )  # batches formed while earlier ones were written
    finally:
        await engine.dispose()
