"""Engineers see the complaints about their work (issue 21): a complaint on a ticket assigned to
them now or before, or following up a ticket they worked on (a low survey score); never another
engineer's — the list leaves it out and every complaint endpoint answers 404, as for none."""

from __future__ import annotations

import uuid
from typing import Any

from tickets_helpers import ENG, OTHER_ENG, SUP, body, tickets_app

from aftersales_shared.events import Envelope, SurveyAnsweredV1
from aftersales_testing.support import auth, running, runtime_of

THIRD_ENG = auth("engineer", sub="eng-li")


async def opened(client: Any, **kw: Any) -> str:
    r = await client.post("/tickets", json=body(customer_name="苏州精工", **kw), headers=SUP)
    assert r.status_code == 201, r.text
    return r.json()["ticket_no"]


async def assign(client: Any, no: str, engineer: str, reason: str | None = None) -> None:
    payload = {"assignee_id": engineer} | ({"reason": reason} if reason else {})
    r = await client.post(f"/tickets/{no}/assign", headers=SUP, json=payload)
    assert r.status_code == 200, r.text


async def listed(client: Any, who: Any) -> set[str]:
    r = await client.get("/complaints", headers=who, params={"limit": 100})
    assert r.status_code == 200, r.text
    return {i["ticket_no"] for i in r.json()["items"]}


async def low_score_follow_up(app: Any, client: Any, original: str) -> str:
    """The surveyed ticket's low score, as surveys announce it: tickets opens a complaint."""
    ticket = (await client.get(f"/tickets/{original}", headers=SUP)).json()
    answered = Envelope(
        source="/aftersales/surveys",
        data=SurveyAnsweredV1(
            survey_id=f"sv-{uuid.uuid4().hex[:8]}",
            ticket_id=ticket["id"],
            ticket_no=original,
            answered_at="2026-11-27T09:00:00Z",
            efficiency=2,
            attitude=1,
            professionalism=3,
            low_score=True,
        ),
    )
    rt = runtime_of(app)
    sub = rt.inbox.subscriptions["tickets-surveys-survey_answered-v1"]
    assert await rt.inbox.handle(sub, answered)
    r = await client.get("/complaints", headers=SUP, params={"limit": 100})
    [no] = [
        i["ticket_no"]
        for i in r.json()["items"]
        if (await client.get(f"/tickets/{i['ticket_no']}", headers=SUP)).json()["parent_ticket_id"]
        == ticket["id"]
    ]
    return no


async def test_an_engineer_sees_complaints_about_their_work_and_no_one_else_s(
    databases, streams_ready, clock
):
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        # a complaint ticket dispatched to 张工, then moved to 王工: both worked on it
        moved = await opened(client, request_type="complaint", urgency="normal")
        await assign(client, moved, "eng-zhang")
        await assign(client, moved, "eng-wang", reason="张工请假")
        # 张工's repair, scored low by its customer: the follow-up complaint is about his work
        repair = await opened(client)
        await assign(client, repair, "eng-zhang")
        follow_up = await low_score_follow_up(app, client, repair)
        # a complaint nobody of them touched
        unrelated = await opened(client, request_type="complaint", urgency="normal")

        mine = await listed(client, ENG)
        assert {moved, follow_up} <= mine and unrelated not in mine
        theirs = await listed(client, OTHER_ENG)
        assert moved in theirs and follow_up not in theirs and unrelated not in theirs
        assert not {moved, follow_up, unrelated} & await listed(client, THIRD_ENG)

        for no in (moved, follow_up):
            r = await client.get(f"/complaints/{no}", headers=ENG)
            assert r.status_code == 200, r.text
            assert r.json()["calendar_id"]  # the clocks' calendar, without opening the ticket
            assert r.json()["assignee_id"] == ("eng-wang" if no == moved else None)
            signed = await client.get(f"/complaints/{no}/signatures", headers=ENG)
            assert signed.status_code == 200
        for who, no in ((ENG, unrelated), (OTHER_ENG, follow_up), (THIRD_ENG, moved)):
            r = await client.get(f"/complaints/{no}", headers=who)
            assert r.status_code == 404 and no in r.json()["detail"]
            r = await client.get(f"/complaints/{no}/signatures", headers=who)
            assert r.status_code == 404

        # reading is all: the steps stay with the desk and the technical department
        r = await client.post(
            f"/complaints/{moved}/findings", json={"findings": "是我装错了"}, headers=ENG
        )
        assert r.status_code == 403
