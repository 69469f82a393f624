"""Expense claims (报销) through the console's pages against the real parts service (and tickets,
whose TicketAssigned makes a ticket 张工's in parts), at the named moment sunday-evening: 张工
creates a claim for the trip that ended on Friday (ten working days left), adds a line (bad
amounts and a ticket that is not his refused in words), uploads a receipt as the phone's camera
form sends it, cannot remove a line whose receipt would slide, submits; 张主管's approval inbox
lists it, a rejection needs its reason, he sends it back, 张工 resubmits, 张主管 approves; 钱会计's
settlement list has it and she settles it with the payment reference. A trip long past shows
逾期将不予报销 and its submission is parts' refusal. 王工 (another engineer) and 陈经理 (a dealer)
reach none of it through any page; nobody approves from a list they may not open."""

from __future__ import annotations

import re

from console_support import CSRF_FIELD, sign_in
from money_support import KEEPER, open_shop

from aftersales_testing.support import wait_until

CLAIM = re.compile(r'href="/expenses/(\d+)"')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def csrf(html: str) -> str:
    return CSRF_FIELD.search(html)[1]


async def said(client, path: str) -> str:
    return (await client.get(path)).text


async def test_a_claim_from_draft_to_settled(desk_parts):
    async with open_shop(*desk_parts) as shop:
        no = shop.warranty_ticket
        async with shop.console() as eng:
            await sign_in(eng, "eng-zhang")
            page = await said(eng, "/expenses")
            assert "我的报销单" in page and "新建报销单" in page
            token = csrf(page)
            trip = {"_csrf_token": token, "trip_start": "2026-11-26", "trip_end": "2026-11-27"}
            r = await eng.post("/expenses", data=trip | {"destination": ""})
            assert "请填写出差目的地" in await said(eng, "/expenses")
            r = await eng.post("/expenses", data=trip | {"destination": "杭州市萧山区"})
            assert r.status_code in (302, 303), r.text
            claim = r.headers["location"]
            page = await said(eng, claim)
            assert "已创建" in page and "2026-12-11 18:00" in page and "还剩 10 个工作日" in page
            line = {
                "_csrf_token": token,
                "spent_on": "2026-11-27",
                "category": "transport",
                "ticket_nos": no,
                "note": "高铁",
            }
            await eng.post(f"{claim}/line", data=line | {"amount": "12.345"})
            assert "最多两位小数" in await said(eng, claim)
            await eng.post(
                f"{claim}/line", data=line | {"amount": "50", "ticket_nos": "SV-NOT-MINE-1"}
            )
            assert "未指派给您" in await said(eng, claim)

            async def added() -> bool:
                await eng.post(f"{claim}/line", data=line | {"amount": "128.50"})
                return "已添加费用行" in await said(eng, claim)

            await wait_until(added, timeout=20, what="parts heard TicketAssigned")
            meal = line | {"category": "meal_allowance", "amount": "80", "note": ""}
            await eng.post(f"{claim}/line", data=meal)
            page = await said(eng, claim)
            assert "¥208.50" in page and "缺少凭证" in page and "餐补无需凭证" in page
            totals = re.search(r'<dl class="facts">(.*?)</dl>', page, re.S)[1]
            assert (
                "<dt>交通</dt><dd>¥128.50</dd>" in totals
                and "<dt>餐补</dt><dd>¥80.00</dd>" in totals
            )
            assert "住宿" not in totals  # unused categories are not listed
            assert 'accept="image/*,application/pdf" capture' in page

            await eng.post(f"{claim}/submit", data={"_csrf_token": token})
            assert "缺少凭证" in await said(eng, claim)  # parts: 第1行缺少凭证
            bad = await eng.post(
                f"{claim}/receipts",
                data={"_csrf_token": token, "line_no": "1"},
                files={"file": ("fapiao.txt", b"hello", "text/plain")},
            )
            assert bad.status_code in (302, 303)
            assert "凭证只接受 JPEG、PNG 图片或 PDF 文件" in await said(eng, claim)
            up = await eng.post(
                f"{claim}/receipts",
                data={"_csrf_token": token, "line_no": "1"},
                files={"file": ("高铁票.png", PNG, "image/png")},
            )
            assert up.status_code in (302, 303), up.text
            page = await said(eng, claim)
            assert "已上传凭证 高铁票.png" in page and "高铁票.png</a>" in page
            receipt = re.search(rf'href="({claim}/receipts/\d+)"', page)[1]
            got = await eng.get(receipt)
            assert got.status_code == 200 and got.content == PNG
            await eng.post(f"{claim}/remove_line", data={"_csrf_token": token, "line_no": "1"})
            assert "请先删除这些凭证" in await said(eng, claim)

            await eng.post(f"{claim}/submit", data={"_csrf_token": token})
            page = await said(eng, claim)
            assert "已提交审核" in page and "待审核" in page and "/line" not in page
        claim_id = claim.rsplit("/", 1)[-1]

        async with shop.console() as other:
            await sign_in(other, "eng-wang")
            assert claim_id not in "".join(CLAIM.findall(await said(other, "/expenses")))
            r = await other.get(claim)
            assert r.status_code == 404 and "杭州市萧山区" not in r.text
            assert (await other.get(receipt)).status_code == 404
            r = await other.post(
                f"{claim}/line",
                data={"_csrf_token": csrf(await said(other, "/expenses")), "amount": "1"},
            )
            assert r.status_code == 404
            assert (await other.get("/expenses/approvals")).status_code == 403

        async with shop.console() as sup:
            await sign_in(sup, "sup-zhang")
            inbox = await said(sup, "/expenses/approvals")
            assert claim_id in CLAIM.findall(inbox) and "张工" in inbox
            token = csrf(inbox)
            await sup.post(f"{claim}/reject", data={"_csrf_token": token, "reason": "否"})
            assert "退回原因至少 4 个字" in await said(sup, claim)
            await sup.post(
                f"{claim}/reject", data={"_csrf_token": token, "reason": "请补充高铁票行程单"}
            )
            assert "已退回给工程师修改" in await said(sup, claim)
            assert claim_id not in CLAIM.findall(await said(sup, "/expenses/approvals"))
            assert (await sup.get("/expenses")).status_code == 403

        async with shop.console() as eng:
            await sign_in(eng, "eng-zhang")
            page = await said(eng, claim)
            assert "请补充高铁票行程单" in page and "已退回" in page
            await eng.post(f"{claim}/submit", data={"_csrf_token": csrf(page)})
            assert "已提交审核" in await said(eng, claim)

        async with shop.console() as sup:
            await sign_in(sup, "sup-zhang")
            page = await said(sup, claim)
            await sup.post(f"{claim}/approve", data={"_csrf_token": csrf(page)})
            assert "已审核通过" in await said(sup, claim)

        async with shop.console() as fin:
            await sign_in(fin, "fin-qian")
            listed = await said(fin, "/expenses/settlement")
            assert claim_id in CLAIM.findall(listed) and "¥208.50" in listed
            token = csrf(listed)
            await fin.post(f"{claim}/settle", data={"_csrf_token": token, "payment_reference": ""})
            assert "请填写付款凭证号" in await said(fin, claim)
            await fin.post(
                f"{claim}/settle",
                data={"_csrf_token": token, "payment_reference": "PAY-20261130-001"},
            )
            page = await said(fin, claim)
            assert "已结算" in page and "PAY-20261130-001" in page
            state = (await shop.parts.get(f"/expense-claims/{claim_id}", headers=KEEPER)).json()
            assert state["state"] == "settled"
            assert (await fin.get("/expenses/approvals")).status_code == 403

        async with shop.console() as dealer:
            await sign_in(dealer, "dealer-chen")
            for path in ("/expenses", "/expenses/approvals", "/expenses/settlement"):
                assert (await dealer.get(path)).status_code == 403, path
            r = await dealer.get(claim)
            assert r.status_code == 403 and "杭州市萧山区" not in r.text
            assert (await dealer.get(receipt)).status_code == 403


async def test_a_late_claim_says_so_and_is_refused(desk_parts):
    async with open_shop(*desk_parts) as shop, shop.console() as eng:
        await sign_in(eng, "eng-zhang")
        token = csrf(await said(eng, "/expenses"))
        trip = {
            "_csrf_token": token,
            "trip_start": "2026-11-05",
            "trip_end": "2026-11-06",
            "destination": "无锡",
        }
        claim = (await eng.post("/expenses", data=trip)).headers["location"]
        page = await said(eng, claim)
        assert "2026-11-20 18:00" in page and "逾期将不予报销" in page
        listed = await said(eng, "/expenses")
        assert "逾期将不予报销" in listed
        meal = {
            "_csrf_token": token,
            "spent_on": "2026-11-06",
            "category": "meal_allowance",
            "amount": "80",
            "ticket_nos": shop.warranty_ticket,
        }

        async def added() -> bool:
            await eng.post(f"{claim}/line", data=meal)
            return "已添加费用行" in await said(eng, claim)

        await wait_until(added, timeout=20, what="parts heard TicketAssigned")
        await eng.post(f"{claim}/submit", data={"_csrf_token": token})
        page = await said(eng, claim)
        assert "已超过提交期限" in page, re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', page)
        state = await said(eng, "/expenses?state=submitted")
        assert claim.rsplit("/", 1)[-1] not in CLAIM.findall(state)
        assert (await eng.get("/expenses?state=bogus")).status_code == 400
        assert (await eng.get("/expenses?page=0")).status_code == 400
