"""insert_rows and one_of: one statement for many rows / values, the same results on both
databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from aftersales_shared.db import create_engine, inbox, insert_rows, one_of, outbox, session_factory
from aftersales_testing.support import migrated


async def test_insert_rows_writes_every_row_with_its_types_and_skips_conflicts(databases):
    sessions = session_factory(create_engine(await migrated(databases, "contracts")))
    at = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
    rows = [
        dict(
            id=f"ev-{i}",
            subject="tickets.ticket_opened.v1",
            headers=json.dumps({"n": i, "名": "工单"}, ensure_ascii=False),
            body=f"正文 {i}".encode() + b"\x00\xff",
            created_at=at + timedelta(seconds=i),
            attempts=i,
        )
        for i in range(5)
    ]
    async with sessions.begin() as s:
        await insert_rows(s, outbox, rows)
    async with sessions() as s:
        back = (
            await s.execute(
                select(
                    outbox.c.id,
                    outbox.c.headers,
                    outbox.c.body,
                    outbox.c.created_at,
                    outbox.c.attempts,
                )
                .where(one_of(s, outbox.c.id, ["ev-1", "ev-3", "nope"]))
                .order_by(outbox.c.id)
            )
        ).all()
    assert [tuple(r) for r in back] == [
        (r["id"], r["headers"], r["body"], r["created_at"], r["attempts"])
        for r in (rows[1], rows[3])
    ]
    assert all(r.created_at.tzinfo is not None for r in back)

    claim = [
        dict(consumer="c", event_id=f"ev-{i}", event_type="T", handled_at=at) for i in range(3)
    ]
    async with sessions.begin() as s:
        first = (
            (await insert_rows(s, inbox, claim, returning=[inbox.c.event_id], skip_conflicts=True))
            .scalars()
            .all()
        )
    async with sessions.begin() as s:
        again = claim[1:] + [dict(consumer="c", event_id="ev-9", event_type="T", handled_at=at)]
        second = (
            (await insert_rows(s, inbox, again, returning=[inbox.c.event_id], skip_conflicts=True))
            .scalars()
            .all()
        )
    assert sorted(first) == ["ev-0", "ev-1", "ev-2"] and second == [
        "ev-9"
    ]  # the two already claimed are skipped

    # without skip_conflicts a duplicate key fails, and its transaction writes none of the rows
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        async with sessions.begin() as s:
            await insert_rows(
                s,
                inbox,
                [dict(consumer="c", event_id="ev-new", event_type="T", handled_at=at), claim[0]],
            )
    async with sessions() as s:
        assert await s.scalar(select(inbox.c.event_id).where(inbox.c.event_id == "ev-new")) is None
        with pytest.raises(ValueError):
            insert_rows(s, inbox, [])
