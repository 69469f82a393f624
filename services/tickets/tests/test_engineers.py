"""The engineers dispatch may choose (the console's picker): the configured roster with each
engineer's open tickets counted from the tickets table, least loaded first, searchable by name,
id or region; the desk may read it, an engineer or a dealer may not."""

from __future__ import annotations

from tickets_helpers import AGENT, ENG, SUP, body, tickets_app

from aftersales_testing.support import auth, running

ROSTER = [
    {"id": "eng-zhang", "name": "张工", "region": "华东·苏州", "phone": "13800000001"},
    {"id": "eng-wang", "name": "王工", "region": "华东·无锡"},
    {"id": "eng-li", "name": "李工", "region": "华南·佛山"},
]


async def _assign(api, to: str) -> str:
    opened = await api.post("/tickets", json=body(customer_name="常州某某机械"), headers=AGENT)
    assert opened.status_code == 201, opened.text
    no = opened.json()["ticket_no"]
    r = await api.post(f"/tickets/{no}/assign", json={"assignee_id": to}, headers=SUP)
    assert r.status_code == 200, r.text
    return no


async def test_the_roster_with_open_tickets_least_loaded_first(databases, streams_ready, clock):
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=ROSTER)
    async with running(app) as api:
        for to in ("eng-zhang", "eng-zhang", "eng-wang", "eng-outside-the-roster"):
            await _assign(api, to)
        listed = await api.get("/engineers", headers=SUP)
        assert listed.status_code == 200, listed.text
        assert [(e["id"], e["open_tickets"]) for e in listed.json()] == [
            ("eng-li", 0),
            ("eng-wang", 1),
            ("eng-zhang", 2),
        ]
        zhang = listed.json()[2]
        assert (zhang["name"], zhang["region"], zhang["phone"]) == (
            "张工",
            "华东·苏州",
            "13800000001",
        )

        async def ids(q: str) -> list[str]:
            r = await api.get("/engineers", params={"q": q}, headers=AGENT)
            assert r.status_code == 200, r.text
            return [e["id"] for e in r.json()]

        assert await ids("华南") == ["eng-li"]
        assert await ids("王") == ["eng-wang"]
        assert await ids("ENG-ZHANG") == ["eng-zhang"]
        assert await ids("华东") == ["eng-wang", "eng-zhang"]
        assert await ids("nobody") == []
        too_long = await api.get("/engineers", params={"q": "x" * 61}, headers=SUP)
        assert too_long.status_code == 400
        for who in (ENG, auth("dealer", sub="dealer-chen", dealer_id="D-ZJ-01")):
            assert (await api.get("/engineers", headers=who)).status_code == 403


async def test_local_development_without_a_roster_offers_the_demo_engineers(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready, local_dev=True)
    async with running(app) as api:
        listed = await api.get("/engineers", headers=SUP)
        assert listed.status_code == 200, listed.text
        assert {e["id"] for e in listed.json()} == {"eng-zhang", "eng-wang", "eng-li"}
