"""The roster supervisors and admins keep through the API: who may read and who may change it,
what a record may hold (zh-CN refusals, a subject twice is 409, never a half-written record), the
audit trail of every change, and leave that ends on its last day in the business time zone."""

from __future__ import annotations

from tickets_helpers import AGENT, ENG, SUP, body, tickets_app

from aftersales_testing.support import auth, running

ADMIN = auth("admin", sub="admin-1")
MANAGER = auth("manager", sub="boss-wang")
DEALER = auth("dealer", sub="dealer-chen", dealer_id="D-ZJ-01")
TECHNICAL = auth("technical", sub="tech-sun")
SEED = [{"id": "eng-zhang", "name": "张工", "region": "华东·苏州", "phone": "13800000001"}]


def _new(sub: str, **kw):
    return {"id": sub, "name": "赵工", "region": "华北·天津", "phone": "13800000009", **kw}


async def test_who_may_read_and_who_may_keep_the_roster(databases, streams_ready, clock):
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=SEED)
    async with running(app) as api:
        for who in (SUP, AGENT, MANAGER, ADMIN):
            assert (await api.get("/engineers", headers=who)).status_code == 200
            assert (await api.get("/engineers/eng-zhang", headers=who)).status_code == 200
        for who in (ENG, DEALER, TECHNICAL):
            assert (await api.get("/engineers", headers=who)).status_code == 403
            assert (await api.get("/engineers/eng-zhang", headers=who)).status_code == 403
        for n, (who, status) in enumerate(
            ((SUP, 201), (ADMIN, 201), (AGENT, 403), (MANAGER, 403), (ENG, 403))
        ):
            r = await api.post("/engineers", json=_new(f"eng-new-{n}"), headers=who)
            assert r.status_code == status, (n, r.text)
        for who, status in ((SUP, 200), (ADMIN, 200), (AGENT, 403), (MANAGER, 403), (DEALER, 403)):
            r = await api.patch("/engineers/eng-zhang", json={"region": "华东·常州"}, headers=who)
            assert r.status_code == status, (who._sub, r.text)
            r = await api.post("/engineers/eng-zhang/leave", json={"on_leave": False}, headers=who)
            assert r.status_code == status, (who._sub, r.text)
        for who, status in ((SUP, 200), (MANAGER, 200), (ADMIN, 200), (AGENT, 403), (ENG, 403)):
            r = await api.get("/engineers/eng-zhang/history", headers=who)
            assert r.status_code == status, (who._sub, r.text)
            r = await api.get("/engineers/export.xlsx", headers=who)
            assert r.status_code == status, (who._sub, r.text)
        for who in (AGENT, MANAGER, ENG):
            r = await api.post("/engineers/import", content=b"PK", headers=who)
            assert r.status_code == 403, (who._sub, r.text)


async def test_bad_records_are_refused_in_chinese_and_nothing_is_written(
    databases, streams_ready, clock
):
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=SEED)
    async with running(app) as api:
        twice = await api.post("/engineers", json=_new("eng-zhang"), headers=SUP)
        assert twice.status_code == 409 and "已在工程师名单中" in twice.json()["detail"]
        for wrong, said in (
            (_new("eng-a", phone="0571-88888888"), "手机号"),
            (_new("eng-b", name="  "), "姓名"),
            (_new("eng-c", region="区" * 51), "区域"),
            (_new("has space"), "账号"),
        ):
            r = await api.post("/engineers", json=wrong, headers=SUP)
            assert r.status_code == 422, r.text
            assert said in r.json()["detail"], r.text
        r = await api.post("/engineers", json={**_new("eng-d"), "extra": 1}, headers=SUP)
        assert r.status_code == 400
        r = await api.patch("/engineers/eng-zhang", json={"phone": "12345"}, headers=SUP)
        assert r.status_code == 422 and "手机号" in r.json()["detail"]
        r = await api.patch("/engineers/eng-zhang", json={"name": None}, headers=SUP)
        assert r.status_code == 400
        r = await api.patch("/engineers/nobody", json={"region": "x"}, headers=SUP)
        assert r.status_code == 404
        everyone = await api.get("/engineers", params={"include_inactive": "true"}, headers=SUP)
        assert [(e["id"], e["phone"], e["region"]) for e in everyone.json()] == [
            ("eng-zhang", "13800000001", "华东·苏州")
        ]


async def test_every_change_is_in_the_audit_trail_who_when_what(databases, streams_ready, clock):
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=SEED)
    async with running(app) as api:
        r = await api.post("/engineers", json=_new("eng-zhao", skills=["XK-200"]), headers=SUP)
        assert r.status_code == 201, r.text
        assert r.json()["skills"] == ["XK-200"] and r.json()["available"] is True
        await api.patch("/engineers/eng-zhao", json={"region": "华北·北京"}, headers=ADMIN)
        await api.patch("/engineers/eng-zhao", json={"region": "华北·北京"}, headers=SUP)
        await api.patch("/engineers/eng-zhao", json={"active": False}, headers=SUP)
        await api.post(
            "/engineers/eng-zhao/leave", json={"on_leave": True, "until": "2026-12-02"}, headers=SUP
        )
        trail = (await api.get("/engineers/eng-zhao/history", headers=MANAGER)).json()
        assert trail["total"] == 4, "an edit that changes nothing is not recorded"
        got = [(e["action"], e["actor"], e["detail"]) for e in reversed(trail["items"])]
        assert got[0][:2] == ("created", "sup-liu") and got[0][2]["phone"] == "13800000009"
        assert got[1] == ("updated", "admin-1", {"changes": {"region": ["华北·天津", "华北·北京"]}})
        assert got[2] == ("deactivated", "sup-liu", {"changes": {"active": [True, False]}})
        assert got[3][0] == "leave"
        assert got[3][2]["changes"]["leave_until"] == [None, "2026-12-02"]
        assert all(e["at"].startswith("2026-11-29T12:5") for e in trail["items"])
        seeded = (await api.get("/engineers/eng-zhang/history", headers=SUP)).json()
        assert [e["action"] for e in seeded["items"]] == ["seeded"]
        also = await api.get(
            "/quality-audit", params={"entity": "engineer", "entity_id": "eng-zhao"}, headers=SUP
        )
        assert also.json()["total"] == 4


async def test_leave_until_sunday_keeps_them_off_the_picker_on_the_make_up_saturday(
    databases, streams_ready, clock
):
    clock.at("make-up-saturday")
    app = await tickets_app(databases, streams_ready, engineers=SEED)
    async with running(app) as api:

        async def offered() -> list[str]:
            return [e["id"] for e in (await api.get("/engineers", headers=AGENT)).json()]

        past = await api.post(
            "/engineers/eng-zhang/leave",
            json={"on_leave": True, "until": "2026-02-27"},
            headers=SUP,
        )
        assert past.status_code == 422 and "已过" in past.json()["detail"]
        r = await api.post(
            "/engineers/eng-zhang/leave",
            json={"on_leave": True, "until": "2026-03-01"},
            headers=SUP,
        )
        assert r.status_code == 200 and r.json()["available"] is False, r.text
        assert await offered() == []
        opened = await api.post("/tickets", json=body(customer_name="常州某某机械"), headers=AGENT)
        no = opened.json()["ticket_no"]
        refused = await api.post(
            f"/tickets/{no}/assign", json={"assignee_id": "eng-zhang"}, headers=SUP
        )
        assert refused.status_code == 409 and "2026-03-01" in refused.json()["detail"]
        clock.at("2026-03-01T23:58:00+08:00")  # the last day of leave, to its end
        assert await offered() == []
        clock.at("2026-03-02T00:01:00+08:00")  # Monday in Shanghai, Sunday 16:01 in UTC
        assert await offered() == ["eng-zhang"]
        back = await api.post(
            f"/tickets/{no}/assign", json={"assignee_id": "eng-zhang"}, headers=SUP
        )
        assert back.status_code == 200, back.text
