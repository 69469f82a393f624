"""Contracts and customers against the real contracts and tickets services: the list's filters
(state, customer, dealer, signed month) and pages, bad filters as 400 pages naming the fix; a
contract's parties, units, versions with what changed (the amendment's added unit and longer term)
and its review (legal signed off, finance and delivery waited for); a customer's contacts, units,
contracts and tickets (the ticket opened on its unit). A dealer sees only the contracts sold through
it — another dealer's or a direct sale's contract is a 404 by URL, a filter naming another dealer
or customer lists nothing — and no customer page; an engineer gets the contracts service's 403. In
Chromium at both sizes: the three pages, axe, screenshots 18–20."""

from __future__ import annotations

import re
import shutil

from a11y import accessible
from console_support import sign_in
from contract_support import OTHER_DEALER, OUR_DEALER, open_books
from test_pages_browser import LAPTOP, SCREENS, _fits
from test_work_pages_browser import _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE

ROW = re.compile(r'<a class="no" href="/contracts/([^"]+)">')


def listed(html: str) -> list[str]:
    return ROW.findall(html)


async def test_the_contract_list_its_filters_and_pages(desk_parts):
    async with open_books(*desk_parts, page_size=5) as books, books.console() as mgr:
        ours, theirs, direct = (books.ours, books.theirs, books.direct)
        await sign_in(mgr, "smgr-zhao")
        first = (await mgr.get("/contracts")).text
        assert "共 6 份" in first and len(listed(first)) == 5 and "第 1 / 2 页" in first
        second = (await mgr.get("/contracts?page=2")).text
        assert len(listed(second)) == 1 and not set(listed(second)) & set(listed(first))

        signed = listed((await mgr.get("/contracts?status=signed")).text)
        assert sorted(signed) == sorted([theirs["contract_no"], direct["contract_no"]])
        in_review = listed((await mgr.get("/contracts?status=in_review")).text)
        assert in_review == [ours["contract_no"]]  # version 2, the amendment
        by_dealer = listed((await mgr.get(f"/contracts?dealer={OTHER_DEALER}")).text)
        assert by_dealer == [theirs["contract_no"]]
        by_customer = (await mgr.get(f"/contracts?customer={direct['customer_id']}")).text
        assert len(listed(by_customer)) == 4  # the sale and three drafts
        month = theirs["signed_at"][:7]  # signed at the named moment, 2026-11
        in_month = listed((await mgr.get(f"/contracts?month={month}")).text)
        assert sorted(in_month) == sorted([theirs["contract_no"], direct["contract_no"]])
        assert listed((await mgr.get("/contracts?month=2026-10")).text) == []

        for query, says in (
            ("status=bogus", "合同状态无效"),
            ("month=2026-13", "签署月份格式为 YYYY-MM"),
            ("page=0", "页码须为 1 起的整数"),
            ("dealer=a/b", "筛选条件 dealer"),
        ):
            bad = await mgr.get(f"/contracts?{query}")
            assert bad.status_code == 400 and says in bad.text, (query, bad.text)


async def test_a_contract_with_its_versions_and_review_and_a_customer(desk_parts):
    async with open_books(*desk_parts) as books, books.console() as agent:
        ours = books.ours
        no = ours["contract_no"]
        await sign_in(agent, "sup-zhang")
        page = await agent.get(f"/contracts/{no}")
        assert page.status_code == 200, page.text
        html = page.text
        assert ours["customer_name"] in html and OUR_DEALER in html
        for serial in (f"{no}-SN1", f"{no}-SN2", f"{no}-SN3"):
            assert serial in html
        version_2 = html[html.index('id="version-2"') : html.index('id="version-1"')]
        assert f"新增设备 XK-300 {no}-SN3" in version_2 and "期限（月）：24 → 36" in version_2
        assert "增购一台" in version_2 and "首版" in html[html.index('id="version-1"') :]
        assert "待 财务评审、交付评审" in html and "法务评审 · <b>通过</b>" in html

        customer = await agent.get(f"/customers/{ours['customer_id']}")
        assert customer.status_code == 200, customer.text
        text = customer.text
        assert "王建国" in text and "13800138001" in text and f"{no}-SN3" in text
        assert f'href="/contracts/{no}"' in text and books.ticket_no in text
        assert (await agent.get("/customers/C-nobody")).status_code == 404
        assert (await agent.get("/contracts/bad%20no")).status_code == 400
        assert (await agent.get("/contracts/HT-nobody")).status_code == 404


async def test_a_dealer_sees_only_its_own_through_every_page(desk_parts):
    async with open_books(*desk_parts) as books:
        ours, theirs, direct = books.ours, books.theirs, books.direct
        async with books.console() as dealer:
            await sign_in(dealer, "dealer-chen")
            own = (await dealer.get("/contracts")).text
            assert listed(own) == [ours["contract_no"]] and "共 1 份" in own
            for query in (
                f"dealer={OTHER_DEALER}",
                f"customer={theirs['customer_id']}",
                "status=signed",  # its own is in review: none of the others' signed ones
            ):
                assert listed((await dealer.get(f"/contracts?{query}")).text) == [], query
            mine = await dealer.get(f"/contracts/{ours['contract_no']}")
            assert mine.status_code == 200 and "/customers/" not in mine.text
            for other in (theirs, direct):
                for path in (
                    f"/contracts/{other['contract_no']}",
                    f"/customers/{other['customer_id']}",
                ):
                    r = await dealer.get(path)
                    assert r.status_code in (403, 404), (path, r.status_code)
                    assert other["customer_name"] not in r.text
            r = await dealer.get(f"/customers/{ours['customer_id']}")
            assert r.status_code == 403 and "经销商门户" in r.text
        async with books.console() as engineer:
            await sign_in(engineer, "eng-zhang")
            assert (await engineer.get("/contracts")).status_code == 403
            assert (await engineer.get(f"/contracts/{ours['contract_no']}")).status_code == 403
        async with books.console() as nobody:
            r = await nobody.get("/contracts")
            assert r.status_code in (302, 303) and "/login" in r.headers["location"]


async def test_contract_pages_in_chromium(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_books(*desk_parts) as books, serving(books.console_app) as base:
        no = books.ours["contract_no"]
        async with chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "sup-zhang", "/contracts")
                await page.select_option("select[name=status]", "in_review")
                async with page.expect_navigation():
                    await page.click("form.filters button[type=submit]")
                assert no in await page.locator("#contract-list").inner_text()
                for step, path in (
                    ("18-contracts", None),
                    ("19-contract", f"/contracts/{no}"),
                    ("20-customer", f"/customers/{books.ours['customer_id']}"),
                ):
                    if path:
                        async with page.expect_navigation():
                            await page.click(f"a[href='{path}']")
                    await _fits(page, size["width"])
                    await page.screenshot(path=str(shots / f"{name}-{step}.png"), full_page=True)
                    await accessible(page, f"{name}-{step}", shots)
                assert books.ticket_no in await page.locator("main").inner_text()
                assert outside == [], outside
                await context.close()
    SCREENS.mkdir(exist_ok=True)
    for png in sorted(shots.glob("*-1[89]-contract*.png")) + sorted(shots.glob("*-20-*.png")):
        shutil.copy(png, SCREENS / png.name)
