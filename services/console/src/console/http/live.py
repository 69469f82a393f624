"""`GET /live`: the open page's Server-Sent Events stream (console.live).

`/live` (the board, the complaints): an event `board` whenever a ticket changed — no number, no
data: the page fetches its list again with the user's own session, so it only ever shows what
the tickets API lets that user see. `/live?topic=contracts` (the review inbox) and
`?topic=dealers` (the dealer portal): `board` whenever that service's records changed, read
again the same way. `/live?topic=surveys` (the return visits): `board` whenever a survey or a
return visit changed — for a dealer's user only when the event names that dealer (its list shows
no other); `?topic=surveys&visit=<id>` (a visit's page): the visit is read first with the user's
token, then an event `visit` only when that visit (or its ticket's survey) changed.
`/live?ticket=<no>` (a ticket page): the ticket (or, when the user may not open the ticket, its
complaint) is read first with the user's token (one they may not see is a 404, never a stream),
then an event `ticket` only when that ticket changed. `/live?action=*` (the corrective actions'
list): `board` whenever any action changed or went overdue; `/live?action=<no>` (an action's
page): the action is read first with the user's token, then an event `action` only when that
action changed. `/live?article=*` (the knowledge review queue, the overseers' only): `board`
whenever any knowledge article moved a step; `?article=mine` (an author's articles): `board` when
one of this user's articles did; `?article=<id>` (an article's page): the article is read first
with the user's token, then an event `article` only when that article changed. `refresh`: events
may have been missed
(NATS reconnected, the page's stream reconnected with an older Last-Event-ID): fetch again. A
stream lasts `live_stream_seconds`, then the browser reconnects by itself (a signed-out session
then gets no stream)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import ServerSentEvent, ServerSentEventMessage

from .. import corrective as ca
from .. import knowledge as kb
from ..live import TOPICS, LiveFeed
from ..people import SessionUser
from ..return_visits import VISIT_ID
from ..settings import ConsoleSettings
from ..upstream import Upstream, UpstreamError
from .pages import current_user
from .ticket import TICKET_NO

ARTICLE_ID = re.compile(r"^[1-9][0-9]{0,11}$")
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 1000


def _refused(status: int, text: str) -> Response[str]:
    return Response(text, status_code=status, media_type="text/plain; charset=utf-8")


async def _may_see(upstream: Upstream, no: str, token: str) -> None:
    """The ticket, or else its complaint: an engineer reads a complaint about their earlier work
    on a ticket that is no longer theirs (the tickets API's 404 stands for any other)."""
    try:
        await upstream.get("tickets", f"/tickets/{no}", token)
    except UpstreamError as exc:
        if exc.status != 404:
            raise
        await upstream.get("tickets", f"/complaints/{no}", token)


async def _may_follow_action(
    upstream: Upstream, user: SessionUser, action: str, topic: str, ticket: str | None
) -> Response[str] | None:
    """The actions' list for the roles that read actions; one action only when the tickets API
    shows it to this user (its 404 or 403 is the stream's)."""
    if topic != "tickets" or ticket is not None:
        return _refused(400, "action 只能单独与 topic=tickets 一起用 (action: tickets only)")
    if action != "*" and not ca.ACTION_NO.fullmatch(action):
        return _refused(400, "措施编号格式不对 (action: an action number or *)")
    if not ca.may_read(user):
        return _refused(403, "纠正/预防措施仅限公司内部相关部门查看")
    if action != "*":
        return await _shown(upstream, f"/corrective-actions/{action}", user, "此措施")
    return None


async def _shown(
    upstream: Upstream, path: str, user: SessionUser, what: str
) -> Response[str] | None:
    """None when the tickets API shows this record to the user; else its refusal (a 4xx as the
    API said it, anything else 503)."""
    try:
        await upstream.get("tickets", path, user.token)
    except UpstreamError as exc:
        status = exc.status if 400 <= exc.status < 500 else 503
        return _refused(status, f"无法订阅{what}的更新：{exc.detail}")
    return None


async def _may_follow_article(
    upstream: Upstream, user: SessionUser, article: str, topic: str, others: tuple[str | None, ...]
) -> Response[str] | None:
    """The review queue for the overseers who review; an author's own articles for the authors;
    one article only when the tickets API shows its working copy to this user."""
    if topic != "tickets" or any(o is not None for o in others):
        return _refused(400, "article 只能单独与 topic=tickets 一起用 (article: tickets only)")
    if article not in ("*", "mine") and not ARTICLE_ID.fullmatch(article):
        return _refused(400, "文章编号格式不对 (article: an article id, mine or *)")
    if article == "*" and not user.has(*kb.OVERSEERS):
        return _refused(403, "待审核队列仅限技术部和客服主管 (the review queue is the reviewers')")
    if not user.has(*kb.AUTHORS):
        return _refused(403, "知识文章的工作稿仅限工程师、客服和技术部")
    if article not in ("*", "mine"):
        return await _shown(upstream, f"/knowledge/articles/{article}", user, "此文章")
    return None


@get("/live", include_in_schema=False)
async def live(
    request: Request,
    settings: NamedDependency[ConsoleSettings],
    upstream: NamedDependency[Upstream],
    feed: NamedDependency[LiveFeed],
) -> ServerSentEvent | Response[str]:
    user = current_user(request)
    if user is None:
        return _refused(401, "请重新登录 (sign in again)")
    ticket = request.query_params.get("ticket")
    visit = request.query_params.get("visit")
    visit_ticket: str | None = None
    topic = request.query_params.get("topic") or "tickets"
    if topic not in TOPICS or (ticket is not None and topic != "tickets"):
        return _refused(400, f"topic 只能是 {'、'.join(TOPICS)} 之一 (topic: one of {TOPICS})")
    if visit is not None:
        if topic != "surveys" or not VISIT_ID.fullmatch(visit):
            return _refused(400, "回访编号格式不对 (visit: a return visit id, with topic=surveys)")
        try:  # only a visit this user may see: the surveys API decides, with their token
            seen = await upstream.get("surveys", f"/return-visits/{visit}", user.token)
        except UpstreamError as exc:
            status = exc.status if 400 <= exc.status < 500 else 503
            return _refused(status, f"无法订阅此回访的更新：{exc.detail}")
        visit_ticket = seen.get("ticket_no")
    action = request.query_params.get("action")
    if action is not None:
        refused = await _may_follow_action(upstream, user, action, topic, ticket)
        if refused is not None:
            return refused
    article = request.query_params.get("article")
    if article is not None:
        refused = await _may_follow_article(upstream, user, article, topic, (ticket, action))
        if refused is not None:
            return refused
    dealer = user.dealer_scope if topic == "surveys" else None
    if ticket is not None:
        if not TICKET_NO.fullmatch(ticket):
            return _refused(400, "工单号格式不对 (a ticket number is letters, digits and -)")
        try:  # only a ticket this user may see: the API decides, with their token
            await _may_see(upstream, ticket, user.token)
        except UpstreamError as exc:
            status = exc.status if 400 <= exc.status < 500 else 503
            return _refused(status, f"无法订阅此工单的更新：{exc.detail}")
    last_seen = request.headers.get("last-event-id")
    ends_at = time.monotonic() + settings.live_stream_seconds

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        queue = feed.listen()
        try:
            mark = feed.mark
            if last_seen and last_seen != mark:  # something passed while it was away
                yield ServerSentEventMessage(data="refresh", event="refresh", id=mark)
            else:
                yield ServerSentEventMessage(data="hello", event="hello", id=mark, retry=RETRY_MS)
            while not feed.closed:
                left = ends_at - time.monotonic()
                if left <= 0:
                    return
                try:
                    notice = await asyncio.wait_for(queue.get(), min(KEEPALIVE_SECONDS, left))
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keepalive")
                    continue
                if notice.refresh:
                    yield ServerSentEventMessage(data="refresh", event="refresh", id=notice.mark)
                elif notice.topic != topic:
                    continue
                elif visit is not None:
                    if notice.visit_id == visit or (
                        visit_ticket and notice.ticket_no == visit_ticket
                    ):
                        yield ServerSentEventMessage(data=visit, event="visit", id=notice.mark)
                elif dealer is not None and notice.dealer_id != dealer:
                    continue  # another dealer's (or the company's own) visits
                elif action is not None:
                    if notice.action_no is None:
                        continue  # a ticket's event: the actions' pages show none
                    if action == "*":
                        yield ServerSentEventMessage(data="changed", event="board", id=notice.mark)
                    elif notice.action_no == action:
                        yield ServerSentEventMessage(data=action, event="action", id=notice.mark)
                elif article is not None:
                    if notice.article_id is None:
                        continue  # not an article's event: the knowledge pages show none
                    if article == "*" or (article == "mine" and notice.author_id == user.sub):
                        yield ServerSentEventMessage(data="changed", event="board", id=notice.mark)
                    elif notice.article_id == article:
                        yield ServerSentEventMessage(data=article, event="article", id=notice.mark)
                elif ticket is None:
                    yield ServerSentEventMessage(data="changed", event="board", id=notice.mark)
                elif notice.ticket_no == ticket:
                    yield ServerSentEventMessage(data=ticket, event="ticket", id=notice.mark)
        finally:
            feed.leave(queue)

    return ServerSentEvent(events(), headers={"X-Accel-Buffering": "no"})
