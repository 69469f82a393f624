"""Group commit (messaging.in_groups, facts.Deferred): events handled together in one transaction
leave the read model that the same events handled one by one leave, and a redelivered copy in
the batch, or after it, changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from report_events import answered, assigned, breached, completed, contract, opened
from reports.models import SurveyFact, TicketEventFact, TicketFact, UnitFact
from sqlalchemy import select

AT = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)


def events() -> list[list[Any]]:
    """Waves of events, each wave one consumer's batch: contracts, openings, assignments (two for
    one ticket, the later one first), completions naming batches, breaches and surveys."""
    serials = [f"XK-G-{i}" for i in range(4)]
    signed = contract(serials, "XK-200", None, "2026-06-01T02:00:00Z", dealer_id="D-ZJ-01")
    tickets = [opened(AT + timedelta(minutes=i), serial_no=s) for i, s in enumerate(serials)]
    first = tickets[0].data
    assigns = [
        assigned(first, AT + timedelta(hours=3), engineer="eng-late"),
        assigned(first, AT + timedelta(hours=1), engineer="eng-early"),
        *(assigned(t.data, AT + timedelta(hours=2)) for t in tickets[1:]),
    ]
    done = [
        completed(t.data, AT + timedelta(days=1), batch_no=f"B{i % 2}", product_line="XK")
        for i, t in enumerate(tickets)
    ]
    late = [breached(t.data) for t in tickets[:2]]
    surveys = [answered(t.data, AT + timedelta(days=2), (5, 4, 2)) for t in tickets]
    return [[signed], tickets, assigns, done, late, surveys]


async def read_model(kit: Any) -> dict[str, Any]:
    async with kit.rt.sessions() as session:
        out = {}
        for model, key in (
            (TicketFact, TicketFact.ticket_id),
            (UnitFact, UnitFact.serial_no),
            (TicketEventFact, TicketEventFact.event_id),
            (SurveyFact, SurveyFact.survey_id),
        ):
            rows = (await session.execute(select(model.__table__).order_by(key))).mappings()
            out[model.__tablename__] = [dict(r) for r in rows]
        return out


async def in_one_batch(kit: Any, wave: list[Any]) -> list[bool]:
    """The wave through its consumer's group commit, all at once (one transaction)."""
    sub = next(
        s for s in kit.rt.inbox.subscriptions.values() if isinstance(wave[0].data, s.accepts)
    )
    assert sub.group is not None, "the consumer commits in groups"
    before = sub.group.batches
    handled = await asyncio.gather(*(sub.group.submit(env) for env in wave))
    assert sub.group.batches == before + 1
    return list(handled)


async def test_a_batch_leaves_what_the_same_events_one_by_one_leave(make_kit):
    waves = events()
    one_by_one, batched = await make_kit(), await make_kit()
    for wave in waves:
        for env in wave:
            assert await one_by_one.deliver(env)
        # every wave in one transaction, a redelivered copy of its first event inside it
        assert await in_one_batch(batched, [*wave, wave[0]]) == [True] * len(wave) + [False]
    expected = await read_model(one_by_one)
    got = await read_model(batched)
    assert got == expected
    (first,) = [t for t in got["ticket_facts"] if t["ticket_id"] == waves[1][0].data.ticket_id]
    # the earlier assignment is the response even though it came second in the batch
    assert first["first_assigned_at"] == AT + timedelta(hours=1)
    assert first["last_assigned_at"] == AT + timedelta(hours=3) and first["batch_no"] == "B0"
    assert {u["batch_no"] for u in got["unit_facts"]} == {"B0", "B1"}  # learned from completions
    # the whole history again, batch by batch: every event is a duplicate, nothing changes
    for wave in waves:
        assert await in_one_batch(batched, wave) == [False] * len(wave)
    assert await read_model(batched) == expected
