"""The dealer portal against the real dealers service: 陈经理 of D-ZJ-01 sees his units with the
warranty card's days left of the 20, his cards, repairs, the old parts he owes back with their
deadlines and his deduction notices, and answers a notice line by line; another dealer's records
never show, not even by URL (the dealers API's 404, shown as a 404 page)."""

from __future__ import annotations

import re

from console_support import sign_in
from dealer_support import MANAGER, OURS, open_dealers

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def flash(html: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>', html)
    return f"{found[1]}: {found[2]}" if found else ""


def section(html: str, name: str) -> str:
    return re.split(rf'<section id="{name}"[^>]*>', html)[1].split("</section>")[0]


async def test_the_dealer_sees_only_its_own_and_answers_its_notice(desk_parts):
    async with open_dealers(*desk_parts) as world:
        ours, theirs = world.ours, world.theirs
        async with world.console() as dealer, world.console() as desk:
            await sign_in(desk, "sup-zhang")
            assert (await desk.get("/dealer")).status_code == 403
            await sign_in(dealer, "dealer-chen")
            home = await dealer.get("/")
            assert (home.status_code, home.headers["location"]) == (302, "/dealer")

            page = await dealer.get("/dealer")
            assert page.status_code == 200, page.text
            html = page.text
            assert OURS in html and "宁波某某机械" in html
            for other in (world.other_id, "温州某某五金", theirs["waiting"], theirs["carded"]):
                assert other not in html, other
            assert theirs["notice"]["notice_no"] not in html
            units = section(html, "units")
            waiting = units.split(ours["waiting"])[1].split("</tr>")[0]
            assert '<span class="tag ok">剩 15 天</span>' in waiting  # sold 5 days ago
            assert "已登记" in units.split(ours["carded"])[1].split("</tr>")[0]
            returns = section(html, "returns")
            assert ours["owing"]["record_no"] in returns and "主轴轴承 ×2" in returns
            assert re.search(r'<span class="tag \w+">剩 \d+ 天</span>', returns), returns
            assert ours["labour_only"]["record_no"] not in returns  # no parts owed
            assert ours["notice"]["notice_no"] in section(html, "notices")

            repair = await dealer.get(f"/dealer/repairs/{ours['owing']['id']}")
            assert repair.status_code == 200 and "更换主轴轴承" in repair.text
            # another dealer's records by URL: the dealers API's 404, never the record
            for url in (
                f"/dealer/repairs/{theirs['owing']['id']}",
                f"/dealer/notices/{theirs['notice']['id']}",
            ):
                other = await dealer.get(url)
                assert other.status_code == 404, url
                assert theirs["notice"]["notice_no"] not in other.text
                assert "温州某某五金" not in other.text and world.other_id not in other.text
            assert (await dealer.get("/dealer/notices/%3Cx%3E")).status_code == 400

            notice = ours["notice"]
            url = f"/dealer/notices/{notice['id']}"
            page = await dealer.get(url)
            assert page.status_code == 200 and notice["notice_no"] in page.text
            token = CSRF.search(page.text)[1]
            line = notice["lines"][0]["id"]
            their_notice = theirs["notice"]
            their_line = their_notice["lines"][0]["id"]
            forged = await dealer.post(
                f"/dealer/notices/{their_notice['id']}/lines/{their_line}",
                data={"decision": "confirmed", "_csrf_token": token},
            )
            assert forged.status_code == 404
            refused = await dealer.post(f"{url}/lines/{line}", data={"decision": "confirmed"})
            assert refused.status_code == 403  # no CSRF token

            async def post(path: str, **form: str) -> str:
                r = await dealer.post(path, data={**form, "_csrf_token": token})
                assert (r.status_code, r.headers["location"]) == (302, url), r.text
                return (await dealer.get(url)).text

            # a warranty card for the unit still waiting for it; another dealer's serial is refused
            # in the API's words (which do not say whose it is)
            async def card(**form: str) -> str:
                r = await dealer.post("/dealer/cards", data={**form, "_csrf_token": token})
                assert (r.status_code, r.headers["location"]) == (302, "/dealer#units"), r.text
                return (await dealer.get("/dealer")).text

            page = await card(serial_no=theirs["waiting"], customer_name="温州某某五金")
            assert flash(page).startswith(
                f"error: 序列号{theirs['waiting']}不是已登记的经销商销售设备"
            )
            page = await card(serial_no=ours["waiting"], customer_name="")
            assert flash(page) == "error: 请填写用户名称（最多 200 字）"
            page = await card(
                serial_no=ours["waiting"],
                customer_name="宁波某某机械",
                customer_phone="0574-88888888",
            )
            assert flash(page) == f"ok: {ours['waiting']} 回执卡已登记"
            row = section(page, "units").split(ours["waiting"])[1].split("</tr>")[0]
            assert "已登记" in row and "剩 15 天" not in row
            assert "销售后第 5 天" in section(page, "cards")

            page = await post(f"{url}/lines/{line}", decision="disputed", reason="")
            assert flash(page) == "error: 提出异议时请填写异议原因"
            page = await post(f"{url}/confirm")
            assert flash(page).startswith("error: ") and "待确认" in page  # the API's words
            page = await post(f"{url}/lines/{line}", decision="confirmed")
            assert flash(page) == "ok: 已记录您的答复" and "已确认" in page
            page = await post(f"{url}/confirm")
            assert flash(page) == "ok: 核销通知已确认", flash(page)
            assert 'action="/dealer/notices/' not in page  # nothing left to answer

        mine = await world.client.get(f"/deduction-notices/{notice['id']}", headers=MANAGER)
        assert mine.json()["status"] == "confirmed"
        untouched = await world.client.get(
            f"/deduction-notices/{their_notice['id']}", headers=MANAGER
        )
        assert untouched.json()["status"] == "issued"
        assert [ln["decision"] for ln in untouched.json()["lines"]] == ["pending"]
        unit = await world.client.get(f"/units/{theirs['waiting']}", headers=MANAGER)
        assert unit.json()["card_status"] == "pending"


async def test_each_list_has_its_pages_and_old_parts_owed_show_from_any_page(
    desk_parts, monkeypatch
):
    """One row a page: the repairs list shows the newest record (the labour-only one) on page 1
    and the older one owing a bearing on page 2 — while 待返还旧件 lists that bearing on every
    page, since it comes from the records still owing parts, not from the page of repairs shown.
    A page link keeps the other lists' pages; a nonsense page number is page 1."""
    monkeypatch.setattr("console.dealer.LISTED", 1)
    async with open_dealers(*desk_parts) as world:
        ours = world.ours
        async with world.console() as dealer:
            await sign_in(dealer, "dealer-chen")
            first = (await dealer.get("/dealer")).text
            repairs = section(first, "repairs")
            assert ours["labour_only"]["record_no"] in repairs
            assert ours["owing"]["record_no"] not in repairs
            assert "第 1 / 2 页" in repairs
            assert 'href="/dealer?repairs_page=2#repairs"' in repairs
            assert "主轴轴承 ×2" in section(first, "returns")
            second = (await dealer.get("/dealer?repairs_page=2&units_page=2")).text
            repairs = section(second, "repairs")
            assert ours["owing"]["record_no"] in repairs
            assert ours["labour_only"]["record_no"] not in repairs
            assert 'href="/dealer?units_page=2#repairs"' in repairs  # back to 1, units kept
            assert "主轴轴承 ×2" in section(second, "returns")
            units = section(second, "units")
            assert "第 2 / 2 页" in units and 'rel="prev"' in units
            for odd in ("0", "-1", "x", "²", "9" * 40, "9" * 5000):
                page = await dealer.get(f"/dealer?repairs_page={odd}")
                assert page.status_code == 200 and "第 1 / 2 页" in section(page.text, "repairs")
            stale = section((await dealer.get("/dealer?repairs_page=7")).text, "repairs")
            assert "第 2 / 2 页" in stale and ours["owing"]["record_no"] in stale  # the last
