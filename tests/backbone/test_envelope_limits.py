"""The envelope's limits, declared once (events.base): long valid ids are kept whole; what breaks
the limits or a hostile body is a dead letter at once with the reason — never a silent drop, never
an endless redelivery."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from aftersales_shared.db import create_engine, dead_letters, inbox, insert_rows, session_factory
from aftersales_shared.events import ContractSignedV1
from aftersales_shared.events.base import MAX_EVENT_ID
from aftersales_shared.inbox import Inbox
from aftersales_testing.support import contract_signed, migrated
from tickets.settings import TicketsSettings


async def _inbox(databases, batch: bool):  # type: ignore[no-untyped-def]
    url = await migrated(databases, "tickets")
    engine = create_engine(url)
    box = Inbox(
        settings=TicketsSettings(database_url=url, nats_url="nats://127.0.0.1:1"),
        sessions=session_factory(engine),
    )
    seen: list[str] = []
    if batch:

        @box.handles_batch(ContractSignedV1)
        async def handle_many(session, envs):  # type: ignore[no-untyped-def]
            seen.extend(e.id for e in envs)
    else:

        @box.handles(ContractSignedV1)
        async def handle_one(session, env):  # type: ignore[no-untyped-def]
            seen.append(env.id)

    [sub] = box.subscriptions.values()
    return engine, box, sub, seen


async def _rows(engine, table, column):  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return (await conn.execute(select(column))).scalars().all()


def _with_id(env, event_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return env.headers() | {"ce-id": event_id, "Nats-Msg-Id": event_id}


async def test_long_ids_sharing_their_first_64_characters_are_each_handled_once(databases):
    for batch in (True, False):
        engine, box, sub, seen = await _inbox(databases, batch)
        try:
            prefix = "partner-erp-east-" + "x" * 60
            ids = [prefix + "-order-1", prefix + "-order-2", "y" * MAX_EVENT_ID]
            envs = [contract_signed(f"HT-{uuid.uuid4().hex[:8]}") for _ in ids]
            outcomes = [
                await box.process(sub, _with_id(e, i), e.body(), 1, e.nats_subject)
                for e, i in zip(envs, ids)
            ]
            assert [o.result for o in outcomes] == ["handled"] * 3, (batch, outcomes)
            assert sorted(seen) == sorted(ids)
            assert sorted(await _rows(engine, inbox, inbox.c.event_id)) == sorted(
                ids
            )  # whole, not cut
            again = await box.process(
                sub, _with_id(envs[1], ids[1]), envs[1].body(), 2, envs[1].nats_subject
            )
            assert again.result == "duplicate" and again.ack
        finally:
            await engine.dispose()


async def test_hostile_envelopes_are_dead_letters_at_once_with_the_reason(databases):
    engine, box, sub, seen = await _inbox(databases, batch=True)
    good = contract_signed(f"HT-{uuid.uuid4().hex[:8]}")
    deep = b'{"contract_no": "X", "customer": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    cases = {
        "z" * (MAX_EVENT_ID + 1): (good.body(), "ce-id must be"),
        "nested": (deep, "nested too deeply"),
        "too-big": (b'{"pad": "' + b"x" * 600_000 + b'"}', "byte limit"),
        "huge-int": (b'{"contract_no": ' + b"9" * 5000 + b"}", "not valid JSON"),
        "bad-utf8": (b'{"contract_no": "\xff\xfe"}', "not valid JSON"),
    }
    try:
        for event_id, (body, _reason) in cases.items():
            outcome = await box.process(
                sub, _with_id(good, event_id), body, 1, "contracts.contract_signed.v1"
            )
            assert outcome.ack and outcome.result == "dead_lettered", (event_id[:20], outcome)
        long_subject = "partners." + "s" * 400
        outcome = await box.process(
            sub,
            _with_id(good, "long-subject") | {"ce-type": "x" * 400},
            good.body(),
            1,
            long_subject,
        )
        assert outcome.result == "dead_lettered"
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        dead_letters.c.event_id,
                        dead_letters.c.error,
                        dead_letters.c.headers,
                        dead_letters.c.subject,
                    )
                )
            ).all()
        by_id = {json.loads(r.headers)["ce-id"]: r for r in rows}
        for event_id, (_, reason) in cases.items():
            assert reason in by_id[event_id].error, (event_id[:20], by_id[event_id].error)
        assert (
            len(by_id["z" * (MAX_EVENT_ID + 1)].event_id) <= MAX_EVENT_ID
        )  # the dead letter's own copy fits
        assert len(by_id["long-subject"].subject) <= 255 and by_id[
            "long-subject"
        ].subject.startswith("partners.sss")
        assert seen == []
    finally:
        await engine.dispose()


async def test_the_bulk_path_refuses_a_value_too_long_for_its_column_instead_of_cutting_it(
    databases,
):
    import pytest
    from sqlalchemy.exc import DBAPIError, StatementError

    engine, *_ = await _inbox(databases, batch=True)
    from datetime import UTC, datetime

    sessions = session_factory(engine)
    row = {
        "consumer": "c" * 101,
        "event_id": "e-1",
        "event_type": "t",
        "handled_at": datetime.now(UTC),
    }
    try:
        async with sessions() as session:
            if session.bind.dialect.name == "sqlite":
                pytest.skip("SQLite does not enforce varchar lengths; PostgreSQL (CI) does")
            with pytest.raises((DBAPIError, StatementError), match="too long"):
                async with session.begin():
                    await insert_rows(session, inbox, [row])
        assert await _rows(engine, inbox, inbox.c.consumer) == []
    finally:
        await engine.dispose()
