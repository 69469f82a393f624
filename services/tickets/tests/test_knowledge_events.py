"""KnowledgeArticleChanged: each step of a knowledge article (created, edited, submitted,
returned, approved, withdrawn) writes exactly one event through the outbox, in the step's
transaction, with where the article stands after it; a refused step, and an edit that changes
nothing, write none. The event names the article, never the customer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from test_knowledge import TECH, TECH2, completed_ticket
from tickets_helpers import AGENT, ENG, OTHER_ENG, SUP, outbox_events, tickets_app, uid

from aftersales_testing.clock import MOMENTS
from aftersales_testing.support import auth, running

DEALER = auth("dealer", sub="dealer-staff", dealer_id="D-ZJ-01")
EVENT = "KnowledgeArticleChanged.v1"


async def _events(app: Any, article: int) -> list[dict[str, Any]]:
    return await outbox_events(app, EVENT, str(article))


async def _refused(app: Any, article: int, before: int, response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert len(await _events(app, article)) == before, response.request.url


async def test_each_step_of_an_article_writes_one_event_and_a_refused_step_none(
    databases, streams_ready, clock
):
    moment = MOMENTS["sunday-evening"].at
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready)
    tag = uid()
    async with running(app) as client:
        no = await completed_ticket(
            client,
            f"主轴异响，转速越高声音越大 {tag}",
            work=[("更换主轴轴承", [])],
            product_model="XK-200",
        )
        r = await client.post("/knowledge/articles", json={"ticket_no": no}, headers=DEALER)
        assert r.status_code == 403
        made = {"ticket_no": no, "product_line": "数控机床"}
        r = await client.post("/knowledge/articles", json=made, headers=ENG)
        assert r.status_code == 201, r.text
        article = r.json()["id"]
        url = f"/knowledge/articles/{article}"
        assert len(await _events(app, article)) == 1
        # refused: the author's step by someone else, incomplete, a blank reason, unpublished
        await _refused(app, article, 1, await client.post(f"{url}/submit", headers=ENG), 422)
        r = await client.patch(url, headers=SUP, json={"cause": "x"})
        await _refused(app, article, 1, r, 403)
        r = await client.patch(url, headers=OTHER_ENG, json={"cause": "x"})
        await _refused(app, article, 1, r, 404)
        r = await client.post(f"{url}/withdraw", headers=TECH, json={"comment": "x"})
        await _refused(app, article, 1, r, 409)

        cause = {"cause_category": "wear", "cause": "前轴承润滑不足"}
        assert (await client.patch(url, headers=ENG, json=cause)).status_code == 200
        # the same content again changes nothing: no revision, no event
        assert (await client.patch(url, headers=ENG, json=cause)).json()["revision"] == 2
        assert len(await _events(app, article)) == 2
        assert (await client.post(f"{url}/submit", headers=ENG)).status_code == 200
        r = await client.post(f"{url}/approve", headers=AGENT, json={})
        await _refused(app, article, 3, r, 403)
        r = await client.post(f"{url}/return", headers=TECH, json={"comment": "  "})
        await _refused(app, article, 3, r, 400)
        r = await client.post(f"{url}/return", headers=TECH, json={"comment": "请写明润滑周期"})
        assert r.status_code == 200, r.text
        r = await client.patch(url, headers=ENG, json={"steps": ["更换主轴轴承", "每500小时润滑"]})
        assert r.status_code == 200, r.text
        assert (await client.post(f"{url}/submit", headers=ENG)).status_code == 200
        r = await client.post(f"{url}/approve", headers=TECH2, json={"comment": "可以"})
        assert r.status_code == 200, r.text
        r = await client.post(f"{url}/withdraw", headers=TECH, json={"comment": "轴承型号有误"})
        assert r.status_code == 200, r.text

        events = await _events(app, article)
    assert [
        (e["change"], e["status"], e["revision"], e["published_revision"], e["changed_by"])
        for e in events
    ] == [
        ("created", "draft", 1, None, "eng-zhang"),
        ("edited", "draft", 2, None, "eng-zhang"),
        ("submitted", "submitted", 2, None, "eng-zhang"),
        ("returned", "returned", 2, None, "tech-li"),
        ("edited", "draft", 3, None, "eng-zhang"),
        ("submitted", "submitted", 3, None, "eng-zhang"),
        ("approved", "approved", 3, 3, "tech-zhou"),
        ("withdrawn", "returned", 3, None, "tech-li"),
    ]
    assert [e["comment"] for e in events] == [None] * 3 + ["请写明润滑周期", None, None] + [
        "可以",
        "轴承型号有误",
    ]
    for e in events:
        assert (e["article_id"], e["ticket_no"], e["author_id"]) == (article, no, "eng-zhang")
        assert e["title"] == f"XK-200 主轴异响，转速越高声音越大 {tag}"
        assert (e["product_model"], e["product_line"]) == ("XK-200", "数控机床")
        changed_at = e["changed_at"].replace("Z", "+00:00")
        assert moment <= datetime.fromisoformat(changed_at) < moment + timedelta(minutes=10)
    # the article's words and the ticket's customer stay in the tickets service
    said = json.dumps(events, ensure_ascii=False)
    for private in ("13912345678", "赵工", "苏州客户", "前轴承润滑不足", "每500小时润滑"):
        assert private not in said, private
    assert not {"symptom", "cause", "steps", "parts", "contact"} & set(events[0])
