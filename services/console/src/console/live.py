"""Live updates: the console hears the events of the services whose pages update live (tickets,
contracts, dealers, surveys) on NATS and tells the open pages that something changed, over
Server-Sent Events; each page then fetches itself again with the signed-in user's own session
(the console never pushes a record, so nobody learns more than a page already shows them).

Core-NATS subscriptions on `tickets.>`, `contracts.>`, `dealers.>` and `surveys.>`
(natsauth.CONSOLE_LISTENS; the console's NATS user may subscribe to these and publish nothing): no
consumer state on the server, no acknowledgement, the event arrives as the relay publishes it.
The console owns no data, so a missed event only means a page refreshes later: whenever the
connection to NATS comes back (events may have passed meanwhile), every page is told to refresh,
and a page whose event stream reconnects with an older `Last-Event-ID` than the feed's (the
browser sends it by itself) refreshes as well.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from aftersales_shared.events import (
    CorrectiveActionChangedV1,
    CorrectiveActionOverdueV1,
    KnowledgeArticleChangedV1,
)
from aftersales_shared.natsauth import CONSOLE_LISTENS, tls_context

from .settings import ConsoleSettings

log = logging.getLogger("console.live")

SUBJECTS = CONSOLE_LISTENS
# what an open page follows: the service whose events change it (its subjects' first token)
TOPICS = tuple(subject.split(".", 1)[0] for subject in SUBJECTS)
QUEUE_SIZE = 64
# the tickets events about a corrective action (纠正/预防措施): they name its action_no
ACTION_SUBJECTS = frozenset(
    e.subject() for e in (CorrectiveActionChangedV1, CorrectiveActionOverdueV1)
)
# the tickets event about a knowledge article (知识文章): it names the article and its author
ARTICLE_SUBJECTS = frozenset({KnowledgeArticleChangedV1.subject()})


@dataclass(frozen=True)
class Notice:
    """What a page may learn: the feed's position, which service's records changed and which
    ticket (None: everything may have, refresh); for the pages that follow one record or one
    dealer's records, the return visit, the dealer, the corrective action and the knowledge
    article (with its author) the event names (never shown, only compared)."""

    mark: str
    ticket_no: str | None
    refresh: bool = False
    topic: str = "tickets"
    visit_id: str | None = None
    dealer_id: str | None = None
    action_no: str | None = None
    article_id: str | None = None
    author_id: str | None = None


def _field(body: object, name: str) -> str | None:
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def _body(payload: bytes) -> object:
    try:
        return json.loads(payload)
    except ValueError:
        return None


def _article_id(body: object) -> str | None:
    """A knowledge article's id (a positive integer in the event) as the pages name it."""
    value = body.get("article_id") if isinstance(body, dict) else None
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**12
    return str(value) if ok else None


def ticket_of(payload: bytes) -> str | None:
    """The ticket an event is about (its body's ticket_no), if any."""
    no = _field(_body(payload), "ticket_no")
    return no if no is not None and len(no) <= 40 else None


class LiveFeed:
    """One NATS connection per console process, fanned out to the open pages' queues."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.epoch = secrets.token_hex(4)  # a new process: pages opened before may have missed
        self.seq = 0
        self.connected = False
        self.closed = False
        self._listeners: set[asyncio.Queue[Notice]] = set()
        self._nc: Any = None
        self._task: asyncio.Task[None] | None = None
        self._reconnects = 0

    @property
    def mark(self) -> str:
        return f"{self.epoch}-{self._reconnects}-{self.seq}"

    # ------------------------------------------------------------------ pages
    def listen(self) -> asyncio.Queue[Notice]:
        queue: asyncio.Queue[Notice] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._listeners.add(queue)
        return queue

    def leave(self, queue: asyncio.Queue[Notice]) -> None:
        self._listeners.discard(queue)

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def publish(
        self,
        ticket_no: str | None,
        refresh: bool = False,
        topic: str = "tickets",
        visit_id: str | None = None,
        dealer_id: str | None = None,
        action_no: str | None = None,
        article_id: str | None = None,
        author_id: str | None = None,
    ) -> None:
        """Tell every open page (a page too slow to keep up is told to refresh instead)."""
        self.seq += 1
        notice = Notice(
            self.mark,
            ticket_no,
            refresh,
            topic,
            visit_id,
            dealer_id,
            action_no,
            article_id,
            author_id,
        )
        for queue in list(self._listeners):
            try:
                queue.put_nowait(notice)
            except asyncio.QueueFull:
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(Notice(self.mark, None, True))

    # ------------------------------------------------------------------ NATS
    async def start(self) -> None:
        """Connect in the background: the console's pages work without NATS (they just do not
        update by themselves until it answers)."""
        self._task = asyncio.create_task(self._run(), name="console-live-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: S110 - shutting down
                pass
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self.closed = True
        for queue in list(self._listeners):  # the open streams end (browsers reconnect)
            if not queue.full():
                queue.put_nowait(Notice(self.mark, None, True))

    async def _run(self) -> None:
        import nats

        s = self.settings
        options: dict[str, Any] = {
            "servers": [s.nats_url],
            "name": "console",
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 1,
            "connect_timeout": 2,
            "inbox_prefix": s.nats_inbox_prefix,
            "disconnected_cb": self._disconnected,
            "reconnected_cb": self._reconnected,
        }
        if s.nats_creds_file:
            options["user_credentials"] = str(s.nats_creds_file)
        elif s.nats_user:
            options["user"] = s.nats_user
            options["password"] = s.nats_password.get_secret_value() if s.nats_password else ""
        context = tls_context(s)
        if context is not None:
            options["tls"] = context
            if s.nats_tls_hostname:
                options["tls_hostname"] = s.nats_tls_hostname
        delay = 0.5
        while True:  # the first connection: retried until NATS answers
            try:
                self._nc = await nats.connect(**options)
                break
            except Exception as exc:  # noqa: BLE001 - any failure: try again shortly
                log.warning("live updates: NATS not reachable yet (%s)", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
        for subject in SUBJECTS:
            await self._nc.subscribe(subject, cb=self._on_message)
        await self._nc.flush()
        self.connected = True
        log.info("live updates: listening to %s", ", ".join(SUBJECTS))

    async def _on_message(self, msg: Any) -> None:
        topic = str(msg.subject).split(".", 1)[0]
        if topic == "surveys":  # return visits: a visit's page follows its visit, a dealer its own
            body = _body(msg.data)
            self.publish(
                ticket_of(msg.data),
                topic=topic,
                visit_id=_field(body, "visit_id"),
                dealer_id=_field(body, "dealer_id"),
            )
            return
        if msg.subject in ACTION_SUBJECTS:  # the actions' pages: which action (no ticket_no)
            action = _field(_body(msg.data), "action_no")
            self.publish(ticket_of(msg.data), topic=topic, action_no=action)
            return
        if msg.subject in ARTICLE_SUBJECTS:  # the knowledge pages: which article, whose
            body = _body(msg.data)
            self.publish(
                ticket_of(msg.data),
                topic=topic,
                article_id=_article_id(body),
                author_id=_field(body, "author_id"),
            )
            return
        self.publish(ticket_of(msg.data) if topic == "tickets" else None, topic=topic)

    async def _disconnected(self) -> None:
        self.connected = False

    async def _reconnected(self) -> None:
        """Events may have passed while the connection was down: every page refreshes."""
        self.connected = True
        self._reconnects += 1
        self.publish(None, refresh=True)
