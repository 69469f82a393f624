"""The return-visit (回访) pages against the real surveys service (its own PostgreSQL database, its
consumer on real NATS JetStream hearing ServiceCompleted), at sunday-evening: the desk's due list
soonest first with the overdue one marked, the tabs and the dealer/engineer filters; a visit's page
with the customer's number and the call form; calls recorded (not reached, then a persisting
problem — first without its description, the API's words); management reads without the form and
is refused a forged call; 陈经理 sees only D-ZJ-01's visits, another dealer's is a 404 and a call
is refused; an engineer gets 403."""

from __future__ import annotations

import re

import httpx
from console_support import sign_in
from visit_support import DESK, open_visits

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
ROW = re.compile(r'<tr class="row visit[^"]*">(.*?)</tr>', re.S)


def listed(html: str) -> list[str]:
    return [
        re.search(r'class="no" href="/return-visits/[^"]+">([^<]+)<', r)[1]
        for r in ROW.findall(html)
    ]


def flash(html: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>', html)
    return f"{found[1]}: {found[2]}" if found else ""


async def call(browser: httpx.AsyncClient, visit_id: str, **form: str) -> str:
    page = await browser.get(f"/return-visits/{visit_id}")
    assert page.status_code == 200, page.text
    posted = await browser.post(
        f"/return-visits/{visit_id}/calls", data={**form, "_csrf_token": CSRF.search(page.text)[1]}
    )
    assert posted.status_code == 302, posted.text
    assert posted.headers["location"] == f"/return-visits/{visit_id}"
    return (await browser.get(f"/return-visits/{visit_id}")).text


async def test_the_desk_works_its_return_visits(desk_parts):
    async with open_visits(*desk_parts) as world:
        nos, ids = world.nos, world.ids
        async with world.console() as agent:
            await sign_in(agent, "agent-zhou")
            page = await agent.get("/return-visits")
            assert page.status_code == 200, page.text
            due = listed(page.text)  # soonest due first (the other two are due at the same time)
            assert due[0] == nos["late"] and sorted(due[1:]) == sorted(
                [nos["mine"], nos["persists"]]
            )
            rows = {re.search(r'">(SV-[^<]+)<', r)[1]: r for r in ROW.findall(page.text)}
            assert "已逾期" in rows[nos["late"]] and "11-25 周三 18:00" in rows[nos["late"]]
            assert "已逾期" not in rows[nos["mine"]] and "12-02 周三 18:00" in rows[nos["mine"]]
            assert "紧急工单" in rows[nos["mine"]] and "投诉工单" in rows[nos["late"]]
            overdue = (await agent.get("/return-visits?tab=overdue")).text
            assert listed(overdue) == [nos["late"]]
            by_engineer = (await agent.get("/return-visits?engineer=eng-wang")).text
            assert listed(by_engineer) == [nos["late"], nos["persists"]]
            by_dealer = (await agent.get("/return-visits?dealer=D-SH-09")).text
            assert listed(by_dealer) == [nos["late"]]
            bad = await agent.get("/return-visits?tab=closed")
            assert bad.status_code == 400 and "tab" in bad.text
            bad = await agent.get("/return-visits?engineer=%3Cx%3E")
            assert bad.status_code == 400 and "工程师账号" in bad.text

            visit = (await agent.get(f"/return-visits/{ids['mine']}")).text
            assert 'href="tel:13800138000"' in visit and 'class="form call-form"' in visit
            refused = await agent.post(f"/return-visits/{ids['mine']}/calls", data={})
            assert refused.status_code == 403 and "安全令牌" in refused.text  # no CSRF token
            visit = await call(agent, ids["mine"], outcome="not_reached", note="无人接听")
            assert flash(visit) == "ok: 已记录回访：未接通，稍后再拨"
            assert "待回访" in visit and "无人接听" in visit and 'class="form call-form"' in visit
            visit = await call(agent, ids["persists"], outcome="problem_persists", note="")
            assert flash(visit).startswith("error:") and "note" in flash(visit), flash(visit)
            visit = await call(
                agent, ids["persists"], outcome="problem_persists", note="主轴异响又出现了"
            )
            assert 'id="visit-result">问题仍存在（重新处理）' in visit
            assert "call-form" not in visit  # done: nothing more to record
            done = (await agent.get("/return-visits?tab=done")).text
            assert listed(done) == [nos["persists"]]
            kept = await world.surveys.get(f"/return-visits/{ids['mine']}", headers=DESK)
            assert [c["outcome"] for c in kept.json()["calls"]] == ["not_reached"]

        async with world.console() as manager:
            await sign_in(manager, "mgr-wang")
            visit = await manager.get(f"/return-visits/{ids['mine']}")
            assert visit.status_code == 200 and "call-form" not in visit.text
            token = CSRF.search(visit.text)[1]
            forged = await manager.post(
                f"/return-visits/{ids['mine']}/calls",
                data={"outcome": "reached", "_csrf_token": token},
            )
            assert forged.status_code == 403
        kept = await world.surveys.get(f"/return-visits/{ids['mine']}", headers=DESK)
        assert len(kept.json()["calls"]) == 1  # nothing written


async def test_a_dealer_sees_only_its_own_return_visits(desk_parts):
    async with open_visits(*desk_parts) as world:
        nos, ids = world.nos, world.ids
        async with world.console() as chen:
            await sign_in(chen, "dealer-chen")
            page = await chen.get("/return-visits")
            assert page.status_code == 200, page.text
            assert sorted(listed(page.text)) == sorted([nos["mine"], nos["persists"]])
            assert "上海别家经销商的客户" not in page.text and 'name="dealer"' not in page.text
            assert '<a href="/return-visits">回访</a>' in page.text  # in his navigation
            asked = (await chen.get("/return-visits?dealer=D-SH-09")).text
            assert sorted(listed(asked)) == sorted([nos["mine"], nos["persists"]])
            assert listed((await chen.get("/return-visits?tab=overdue")).text) == []
            own = await chen.get(f"/return-visits/{ids['mine']}")
            assert own.status_code == 200 and "call-form" not in own.text
            other = await chen.get(f"/return-visits/{ids['late']}")
            assert other.status_code == 404 and "上海别家经销商的客户" not in other.text
            token = CSRF.search(own.text)[1]
            for visit_id in (ids["late"], ids["mine"]):
                posted = await chen.post(
                    f"/return-visits/{visit_id}/calls",
                    data={"outcome": "reached", "_csrf_token": token},
                )
                assert posted.status_code == 403
        for visit_id in ids.values():
            kept = await world.surveys.get(f"/return-visits/{visit_id}", headers=DESK)
            assert kept.json()["calls"] == []
        async with world.console() as eng:
            await sign_in(eng, "eng-zhang")
            refused = await eng.get("/return-visits")
            assert refused.status_code == 403 and 'href="/return-visits"' not in refused.text
            assert (await eng.get(f"/return-visits/{ids['mine']}")).status_code == 403
        async with world.console() as nobody:
            r = await nobody.get("/return-visits")
            assert r.status_code in (302, 303) and "/login" in r.headers["location"]
