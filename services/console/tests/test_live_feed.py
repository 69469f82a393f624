"""The console's live feed on its own NATS server: it hears the tickets service's events as the
console user; when NATS goes away and comes back, every open page is told to refresh (events may
have passed meanwhile) and the feed hears again; a page too slow to take its notices gets one
refresh instead of the backlog; an event's ticket (and a corrective action's or a knowledge
article's) is read from its body."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aftersales_testing import natsaccess
from aftersales_testing.support import wait_until
from console.live import ACTION_SUBJECTS, ARTICLE_SUBJECTS, QUEUE_SIZE, LiveFeed, ticket_of
from console.settings import ConsoleSettings


async def _publish(url: str, ticket_no: str) -> None:
    nc = await natsaccess.connect(url, "tickets")
    try:
        await nc.publish("tickets.ticket_assigned.v1", f'{{"ticket_no": "{ticket_no}"}}'.encode())
        await nc.flush()
    finally:
        await nc.close()


async def _connected(feed: LiveFeed) -> bool:
    return feed.connected


async def test_a_nats_restart_tells_every_page_to_refresh(own_nats):
    feed = LiveFeed(ConsoleSettings(local_dev=True, nats_url=own_nats.url))
    assert feed.settings.nats_user == "console"  # the tests' credentials, as the launcher's
    await feed.start()
    try:
        await wait_until(lambda: _connected(feed), timeout=20, what="the feed connected")
        page = feed.listen()
        await _publish(own_nats.url, "SV-1")
        heard = await asyncio.wait_for(page.get(), 20)
        assert (heard.ticket_no, heard.refresh) == ("SV-1", False)

        own_nats.kill()
        own_nats.start()
        told = await asyncio.wait_for(page.get(), 30)
        assert told.refresh and told.ticket_no is None and told.mark != heard.mark

        await _publish(own_nats.url, "SV-2")  # and it hears again
        again = await asyncio.wait_for(page.get(), 20)
        assert (again.ticket_no, again.refresh) == ("SV-2", False)
    finally:
        await feed.stop()
    assert feed.closed


async def test_a_slow_page_gets_one_refresh_instead_of_the_backlog():
    feed = LiveFeed(ConsoleSettings(local_dev=True))
    slow, quick = feed.listen(), feed.listen()
    for n in range(QUEUE_SIZE + 5):
        feed.publish(f"SV-{n}")
        while not quick.empty():
            quick.get_nowait()
    kept = [slow.get_nowait() for _ in range(slow.qsize())]
    assert kept[0].refresh and all(not k.refresh for k in kept[1:]) and len(kept) < QUEUE_SIZE
    feed.leave(slow)
    feed.leave(quick)
    assert feed.listeners == 0


def test_the_ticket_of_an_event():
    assert ticket_of(b'{"ticket_no": "SV-20261130-0001", "urgency": "urgent"}') == (
        "SV-20261130-0001"
    )
    for body in (b"not json", b"[1, 2]", b'{"ticket_no": 7}', b'{"calendar_id": "default"}'):
        assert ticket_of(body) is None


async def test_an_actions_event_names_its_action_and_no_other_event_does():
    feed = LiveFeed(ConsoleSettings(local_dev=True))
    page = feed.listen()
    body = b'{"action_no": "CA-20261130-0001", "ticket_nos": ["SV-1"], "status": "open"}'
    for subject in sorted(ACTION_SUBJECTS):
        await feed._on_message(SimpleNamespace(subject=subject, data=body))
        heard = page.get_nowait()
        assert (heard.action_no, heard.ticket_no, heard.topic) == (
            "CA-20261130-0001",
            None,
            "tickets",
        )
    assert ACTION_SUBJECTS == {
        "tickets.corrective_action_changed.v1",
        "tickets.corrective_action_overdue.v1",
    }
    named = b'{"action_no": "CA-20261130-0001", "ticket_no": "SV-2"}'
    await feed._on_message(SimpleNamespace(subject="tickets.ticket_assigned.v1", data=named))
    heard = page.get_nowait()
    assert (heard.action_no, heard.ticket_no) == (None, "SV-2")
    feed.leave(page)


async def test_an_articles_event_names_its_article_and_author_and_no_other_event_does():
    feed = LiveFeed(ConsoleSettings(local_dev=True))
    page = feed.listen()
    subject = "tickets.knowledge_article_changed.v1"
    assert ARTICLE_SUBJECTS == {subject}
    body = b'{"article_id": 42, "ticket_no": "SV-3", "author_id": "eng-zhang", "status": "draft"}'
    await feed._on_message(
        SimpleNamespace(subject="tickets.knowledge_article_changed.v1", data=body)
    )
    heard = page.get_nowait()
    assert (heard.article_id, heard.author_id, heard.ticket_no, heard.action_no) == (
        "42",
        "eng-zhang",
        "SV-3",
        None,
    )
    # an id that is no article's (not a positive integer) names none; other subjects name none
    for odd in (b'{"article_id": "42"}', b'{"article_id": true}', b'{"article_id": 0}', b"x"):
        await feed._on_message(SimpleNamespace(subject=subject, data=odd))
        assert page.get_nowait().article_id is None, odd
    named = b'{"article_id": 42, "author_id": "eng-zhang", "ticket_no": "SV-3"}'
    await feed._on_message(SimpleNamespace(subject="tickets.ticket_assigned.v1", data=named))
    heard = page.get_nowait()
    assert (heard.article_id, heard.author_id, heard.ticket_no) == (None, None, "SV-3")
    feed.leave(page)
