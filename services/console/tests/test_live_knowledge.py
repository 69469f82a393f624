"""The knowledge base's pages (知识库) update themselves: the console hears tickets'
KnowledgeArticleChanged on NATS. Over real HTTP against the real tickets service: the review
queue's stream (`/live?article=*`, the overseers' only) hears every article's step and no ticket's;
an author's list (`?article=mine`) only the steps of their own articles; an article's page
(`?article=<id>`) only that article; streams for a malformed or unknown article, an article the
user may not see, mixed with another topic, the queue asked for by an engineer or anything asked
for by a dealer are refused. In Chromium at both sizes: an article 张工 submits over the tickets
API appears in 吴工's 待审核 queue; his page of 张工's draft shows it submitted and offers the
return form when 张工 submits it, and the return comment he is typing survives the next event
about that article (the relay sending the submission again); neither page reloaded."""

from __future__ import annotations

import json
from typing import Any

import httpx
from console_support import open_desk, sign_in
from test_knowledge import completed_ticket
from test_knowledge_pages import WORK
from test_live import WAIT, _feed_connected, listening
from test_pages_browser import LAPTOP, _shot
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving
from tickets_helpers import AGENT, ENG, outbox_events

from aftersales_testing import natsaccess
from aftersales_testing.browser import PHONE

MARK = "window.__live = 'not reloaded'"
EVENT = "KnowledgeArticleChanged.v1"


async def _draft(tickets: httpx.AsyncClient, what: str, author: Any = ENG) -> int:
    """An article written from a ticket 张工 completed, left a draft (by `author`)."""
    no = await completed_ticket(tickets, f"{what}，开机后偶发报警", work=WORK)
    body = {"ticket_no": no, "title": what, "cause": "显示屏排线插头未插紧"}
    r = await tickets.post("/knowledge/articles", json=body, headers=author)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _submit(tickets: httpx.AsyncClient, article: int) -> None:
    r = await tickets.post(f"/knowledge/articles/{article}/submit", headers=ENG)
    assert r.status_code == 200, r.text


async def test_the_knowledge_streams_hear_their_own_events(desk_parts):
    async with open_desk(*desk_parts) as desk, serving(desk.console_app) as base:
        zhangs = await _draft(desk.tickets, "操作面板黑屏")
        async with (
            httpx.AsyncClient(base_url=base, timeout=WAIT) as wu,
            httpx.AsyncClient(base_url=base, timeout=WAIT) as zhang,
        ):
            await sign_in(wu, "tech-wu")
            await sign_in(zhang, "eng-zhang")
            await _feed_connected(wu)
            bad = await wu.get("/live?article=../x")
            assert bad.status_code == 400 and "文章编号格式不对" in bad.text
            for mixed in (
                "?article=*&topic=contracts",
                "?article=*&ticket=SV-20261129-0001",
                "?article=*&action=*",
            ):
                assert (await wu.get(f"/live{mixed}")).status_code == 400, mixed
            missing = await wu.get("/live?article=999999999")
            assert missing.status_code == 404, missing.text
            queue = await zhang.get("/live?article=*")  # an engineer has no queue
            assert queue.status_code == 403 and "待审核队列" in queue.text

            async with (
                listening(wu, "?article=*") as listed,
                listening(wu, f"?article={zhangs}") as page,
                listening(zhang, "?article=mine") as mine,
            ):
                for stream in (listed, page, mine):
                    await stream.wait_for("hello")
                # another author's article (the queue hears it, 张工's list does not), then 张工's
                others = await _draft(desk.tickets, "液压站压力低", author=AGENT)
                first = (await listed.wait_for("board"))["id"]
                await _submit(desk.tickets, zhangs)
                second = (await listed.wait_for("board"))["id"]
                heard = await page.wait_for("article")
                assert heard["data"] == str(zhangs) and heard["id"] == second != first
                assert (await mine.wait_for("board"))["id"] == second

        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as other:
            await sign_in(other, "eng-wang")  # not the author: the API shows no working copy
            refused = await other.get(f"/live?article={zhangs}")
            assert refused.status_code == 404, refused.text
            assert (await other.get(f"/live?article={others}")).status_code == 404
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as dealer:
            await sign_in(dealer, "dealer-chen")
            for query in ("?article=*", "?article=mine", f"?article={zhangs}"):
                refused = await dealer.get(f"/live{query}")
                assert refused.status_code == 403, refused.text


async def _sent_again(desk: Any, nats_url: str, article: int) -> None:
    """The relay publishing an article's last event once more (at least once: JetStream drops
    the duplicate, a core subscriber such as the console hears it)."""
    last = (await outbox_events(desk.tickets_app, EVENT, str(article)))[-1]
    assert last["change"] == "submitted", last
    nc = await natsaccess.connect(nats_url, "tickets")
    try:
        headers = {"ce-type": f"cn.aftersales.tickets.{EVENT}", "ce-subject": str(article)}
        body = json.dumps(last, ensure_ascii=False).encode()
        await nc.publish("tickets.knowledge_article_changed.v1", body, headers=headers)
        await nc.flush()
    finally:
        await nc.close()


async def test_the_knowledge_pages_update_themselves_in_chromium(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    nats_url = desk_parts[1]
    async with open_desk(*desk_parts) as desk, serving(desk.console_app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as probe:
            await _feed_connected(probe)
        async with chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                queued = await _draft(desk.tickets, f"操作面板黑屏（{name}）")
                reviewed = await _draft(desk.tickets, f"显示屏闪烁（{name}）")
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "tech-wu", "/knowledge?tab=queue")
                await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
                await page.evaluate(MARK)
                assert await page.locator(f"#article-{queued}").count() == 0  # a draft
                await _submit(desk.tickets, queued)
                row = page.locator(f"#kb-list #article-{queued}")
                await row.wait_for(timeout=WAIT * 1000)
                assert "张工 (eng-zhang)" in await row.inner_text()
                assert await page.evaluate("window.__live") == "not reloaded"
                assert "列表已更新" in await page.locator("#live-status").inner_text()
                await _shot(page, size, name, "kb9-live-queue", shots)

                await page.goto(base + f"/knowledge/articles/{reviewed}")
                await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
                await page.evaluate(MARK)
                assert await page.locator("#kb-status").inner_text() == "草稿"
                assert await page.locator("#kb-return").count() == 0  # not submitted yet
                await _submit(desk.tickets, reviewed)
                await page.locator("#kb-return").wait_for(timeout=WAIT * 1000)
                assert await page.locator("#kb-status").inner_text() == "待审核"
                assert "提交审核" in await page.locator("#kb-history").inner_text()
                typed = f"请写明排线型号（{name}）"
                await page.fill("#kb-return textarea[name=comment]", typed)
                await page.evaluate("document.getElementById('live-status').textContent = ''")
                await _sent_again(desk, nats_url, reviewed)
                await page.locator("#live-status", has_text="文章已更新").wait_for(
                    timeout=WAIT * 1000
                )
                assert await page.evaluate("window.__live") == "not reloaded"
                assert await page.input_value("#kb-return textarea[name=comment]") == typed
                await _shot(page, size, name, "kb10-live-article", shots)
                assert outside == [], outside
                await context.close()
    _keep(shots, "kb9")
    _keep(shots, "kb10")
