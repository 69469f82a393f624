"""The engineers dispatch may choose (the console's picker): the roster kept in the tickets
database (seeded once from TICKETS_ENGINEERS) with each engineer's open tickets counted from the
tickets table, least loaded first, searchable by name, id or region; the desk may read it, an
engineer or a dealer may not. Dispatch takes only an active engineer on the roster who is not on
leave, with name and phone from the roster."""

from __future__ import annotations

from tickets_helpers import AGENT, ENG, SUP, body, tickets_app

from aftersales_testing.support import auth, running

ROSTER = [
    {"id": "eng-zhang", "name": "张工", "region": "华东·苏州", "phone": "13800000001"},
    {"id": "eng-wang", "name": "王工", "region": "华东·无锡"},
    {"id": "eng-li", "name": "李工", "region": "华南·佛山"},
]


async def _open(api) -> str:
    opened = await api.post("/tickets", json=body(customer_name="常州某某机械"), headers=AGENT)
    assert opened.status_code == 201, opened.text
    return opened.json()["ticket_no"]


async def _assign(api, to: str) -> str:
    no = await _open(api)
    r = await api.post(f"/tickets/{no}/assign", json={"assignee_id": to}, headers=SUP)
    assert r.status_code == 200, r.text
    return no


async def test_the_roster_with_open_tickets_least_loaded_first(databases, streams_ready, clock):
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=ROSTER)
    async with running(app) as api:
        for to in ("eng-zhang", "eng-zhang", "eng-wang"):
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


async def test_dispatch_takes_only_an_active_engineer_on_the_roster(
    databases, streams_ready, clock
):
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=ROSTER, dispatch_roster_only=True)
    async with running(app) as api:
        no = await _open(api)

        async def dispatch(to: str, **kw):
            return await api.post(
                f"/tickets/{no}/assign", json={"assignee_id": to, **kw}, headers=SUP
            )

        off = await dispatch("eng-outside-the-roster")
        assert off.status_code == 422, off.text
        assert "不在工程师名单中" in off.json()["detail"]
        r = await api.patch("/engineers/eng-li", json={"active": False}, headers=SUP)
        assert r.status_code == 200 and r.json()["active"] is False, r.text
        gone = await dispatch("eng-li")
        assert gone.status_code == 422 and "已停用" in gone.json()["detail"], gone.text
        away = await api.post("/engineers/eng-wang/leave", json={"on_leave": True}, headers=SUP)
        assert away.status_code == 200 and away.json()["on_leave"] is True, away.text
        on_leave = await dispatch("eng-wang")
        assert on_leave.status_code == 409 and "休假中" in on_leave.json()["detail"]
        ticket = (await api.get(f"/tickets/{no}", headers=SUP)).json()
        assert ticket["assignee_id"] is None and ticket["status"] == "new", "nothing half-written"
        ok = await dispatch("eng-zhang")
        assert ok.status_code == 200, ok.text
        assert ok.json()["assignee_name"] == "张工", "the name comes from the roster"
        # a dealer is not an engineer: the roster does not apply
        other = await _open(api)
        dealer = {"assignee_id": "D-ZJ-01", "assignee_kind": "dealer", "assignee_name": "某经销商"}
        r = await api.post(f"/tickets/{other}/assign", json=dealer, headers=SUP)
        assert r.status_code == 200, r.text


async def test_by_default_someone_off_the_roster_may_be_dispatched_to_by_name(
    databases, streams_ready, clock
):
    """A subcontractor or a colleague lent by another branch: not on the roster, dispatched to
    by name (the default); an engineer on the roster who is deactivated is refused all the same."""
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=ROSTER)
    async with running(app) as api:
        no = await _open(api)
        lent = {"assignee_id": "eng-lent-ningbo", "assignee_name": "宁波分公司周工"}
        r = await api.post(f"/tickets/{no}/assign", json=lent, headers=SUP)
        assert r.status_code == 200, r.text
        assert (r.json()["assignee_id"], r.json()["assignee_name"]) == (
            "eng-lent-ningbo",
            "宁波分公司周工",
        )
        r = await api.patch("/engineers/eng-li", json={"active": False}, headers=SUP)
        assert r.status_code == 200, r.text
        other = await _open(api)
        r = await api.post(f"/tickets/{other}/assign", json={"assignee_id": "eng-li"}, headers=SUP)
        assert r.status_code == 422 and "已停用" in r.json()["detail"], r.text


async def test_the_picker_leaves_out_who_is_on_leave_or_deactivated_the_admin_sees_all(
    databases, streams_ready, clock
):
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=ROSTER)
    async with running(app) as api:
        held = await _assign(api, "eng-wang")
        await api.post(
            "/engineers/eng-wang/leave", json={"on_leave": True, "until": "2026-12-04"}, headers=SUP
        )
        await api.patch("/engineers/eng-li", json={"active": False}, headers=SUP)
        picker = (await api.get("/engineers", headers=AGENT)).json()
        assert [e["id"] for e in picker] == ["eng-zhang"]

        async def ids(**params) -> list[str]:
            r = await api.get("/engineers", params=params, headers=SUP)
            assert r.status_code == 200, r.text
            return sorted(e["id"] for e in r.json())

        assert await ids(include_inactive="true") == ["eng-li", "eng-wang", "eng-zhang"]
        assert await ids(include_inactive="true", active="false") == ["eng-li"]
        assert await ids(include_inactive="true", available="false") == ["eng-li", "eng-wang"]
        assert await ids(include_inactive="true", region="华东·无锡") == ["eng-wang"]
        everyone = await api.get("/engineers", params={"include_inactive": "true"}, headers=SUP)
        pages = [await ids(include_inactive="true", limit=1, offset=n) for n in range(4)]
        assert pages == [[e["id"]] for e in everyone.json()] + [[]]
        wang = (await api.get("/engineers/eng-wang", headers=SUP)).json()
        assert (wang["on_leave"], wang["leave_until"], wang["open_tickets"]) == (
            True,
            "2026-12-04",
            1,
        )
        ticket = (await api.get(f"/tickets/{held}", headers=SUP)).json()
        assert ticket["assignee_id"] == "eng-wang", "what an engineer on leave holds stays theirs"


async def test_local_development_without_a_roster_seeds_the_demo_engineers(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready, local_dev=True)
    async with running(app) as api:
        listed = await api.get("/engineers", headers=SUP)
        assert listed.status_code == 200, listed.text
        assert {e["id"] for e in listed.json()} == {"eng-zhang", "eng-wang", "eng-li"}
