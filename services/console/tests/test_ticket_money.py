"""The ticket page's 备件与费用 section against the real tickets and parts services (one NATS: parts
hears the tickets through its inbox): warranty or chargeable and why; 张工 issues a bearing from his
van (the cost and the van's stock follow), a second issue beyond the van's stock is parts' 409
可用库存不足 shown as the page's message with nothing written, a resent form (same idempotency key)
issues nothing twice, he returns one unused; the supervisor overrides the coverage (not without a
reason); the agent quotes the chargeable ticket (the link shown once) and withdraws it. Who sees
which form: the agent no issue form, 张工 no override, a dealer no section at all; a forged post of
a form one's role does not have writes nothing."""

from __future__ import annotations

import re

from console_support import CSRF_FIELD, sign_in
from money_support import KEEPER, open_shop

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def csrf(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF token on the page"
    return found[1]


async def stock(shop, part_no: str, van: str) -> int:
    r = await shop.parts.get(
        "/stock", params={"part_no": part_no, "location_id": van}, headers=KEEPER
    )
    items = r.json()["items"]
    return items[0]["on_hand"] if items else 0


async def costs(shop, no: str) -> dict:
    return (await shop.parts.get(f"/tickets/{no}/costs", headers=KEEPER)).json()


async def test_the_engineer_issues_and_returns_parts_from_his_van(desk_parts):
    async with open_shop(*desk_parts) as shop, shop.console() as eng:
        no = shop.warranty_ticket
        await sign_in(eng, "eng-zhang")
        page = (await eng.get(f"/tickets/{no}")).text
        assert "备件与费用" in page and "保修（三包）" in page and "设备在三包期内" in page
        assert shop.bearing in page and "可用 3" in page
        assert f"/tickets/{no}/money/coverage" not in page  # not an engineer's
        assert f"/tickets/{no}/money/quote" not in page  # a warranty ticket is not quoted
        key = KEY.search(page)[1]
        form = {"_csrf_token": csrf(page), "part_no": shop.bearing, "quantity": "1"}
        r = await eng.post(f"/tickets/{no}/money/issue", data=form | {"idempotency_key": key})
        assert r.status_code in (302, 303), r.text
        after = (await eng.get(f"/tickets/{no}")).text
        assert "已领用备件到本工单" in after and "¥100.00" in after
        assert await stock(shop, shop.bearing, shop.van) == 2
        # the same form sent again (a double tap): parts answers the first result, nothing moves
        await eng.post(f"/tickets/{no}/money/issue", data=form | {"idempotency_key": key})
        assert await stock(shop, shop.bearing, shop.van) == 2
        assert (await costs(shop, no))["parts_total"] == "100.00"
        page = (await eng.get(f"/tickets/{no}")).text
        form = {"_csrf_token": csrf(page), "part_no": shop.bearing, "quantity": "1"}
        await eng.post(
            f"/tickets/{no}/money/issue", data=form | {"idempotency_key": KEY.search(page)[1]}
        )
        assert await stock(shop, shop.bearing, shop.van) == 1  # a new page's form issues again

        page = (await eng.get(f"/tickets/{no}")).text
        form = {"_csrf_token": csrf(page), "part_no": shop.bearing, "quantity": "5"}
        await eng.post(
            f"/tickets/{no}/money/issue", data=form | {"idempotency_key": KEY.search(page)[1]}
        )
        refused = (await eng.get(f"/tickets/{no}")).text
        assert "可用库存不足" in refused and 'role="alert"' in refused
        assert await stock(shop, shop.bearing, shop.van) == 1
        assert (await costs(shop, no))["parts_total"] == "200.00"

        for bad, says in (
            ({"quantity": "0"}, "数量须为 1 到 10000 的整数"),
            ({"part_no": "?"}, "请选择备件"),
        ):
            page = (await eng.get(f"/tickets/{no}")).text
            sent = {"_csrf_token": csrf(page), "part_no": shop.bearing, "quantity": "1"}
            sent |= {"idempotency_key": KEY.search(page)[1]} | bad
            await eng.post(f"/tickets/{no}/money/issue", data=sent)
            assert says in (await eng.get(f"/tickets/{no}")).text
        assert await stock(shop, shop.bearing, shop.van) == 1

        page = (await eng.get(f"/tickets/{no}")).text
        back = {"_csrf_token": csrf(page), "part_no": shop.bearing, "quantity": "1"}
        back |= {"idempotency_key": KEY.findall(page)[-1], "reason": "多领了一件"}
        await eng.post(f"/tickets/{no}/money/return", data=back)
        assert "已退回未用备件" in (await eng.get(f"/tickets/{no}")).text
        assert await stock(shop, shop.bearing, shop.van) == 2
        assert (await costs(shop, no))["parts_total"] == "100.00"

        # the part search narrows the list; a search matching nothing says so
        assert shop.bearing in (await eng.get(f"/tickets/{no}?part_q=轴承")).text
        assert (
            "没有匹配“不存在的件”的备件" in (await eng.get(f"/tickets/{no}?part_q=不存在的件")).text
        )
        assert (await eng.get(f"/tickets/{no}?part_q={'x' * 61}")).status_code == 400


async def test_the_supervisor_overrides_and_the_office_quotes_and_withdraws(desk_parts):
    async with open_shop(*desk_parts) as shop:
        no = shop.chargeable_ticket
        async with shop.console() as sup:
            await sign_in(sup, "sup-zhang")
            page = (await sup.get(f"/tickets/{no}")).text
            assert "收费服务" in page and f"/tickets/{no}/money/issue" not in page
            token = csrf(page)
            await sup.post(
                f"/tickets/{no}/money/coverage",
                data={"_csrf_token": token, "coverage": "warranty", "reason": "好"},
            )
            assert "调整原因至少 4 个字" in (await sup.get(f"/tickets/{no}")).text
            assert (await costs(shop, no))["coverage"] == "chargeable"
            await sup.post(
                f"/tickets/{no}/money/coverage",
                data={
                    "_csrf_token": token,
                    "coverage": "warranty",
                    "reason": "客户三包卡补登，仍在期内",
                },
            )
            page = (await sup.get(f"/tickets/{no}")).text
            assert "已调整保修/收费判定" in page and "客户三包卡补登，仍在期内" in page
            assert (await costs(shop, no))["coverage"] == "warranty"
            await sup.post(
                f"/tickets/{no}/money/coverage",
                data={"_csrf_token": token, "coverage": "chargeable", "reason": "核实后仍已过保"},
            )
        async with shop.console() as agent:
            await sign_in(agent, "agent-zhou")
            page = (await agent.get(f"/tickets/{no}")).text
            assert f"/tickets/{no}/money/coverage" not in page and "精度校准" in page
            token = csrf(page)
            r = await agent.post(
                f"/tickets/{no}/money/coverage",
                data={"_csrf_token": token, "coverage": "warranty", "reason": "伪造的改判请求"},
            )
            assert r.status_code in (302, 303)
            assert "当前不能执行此操作" in (await agent.get(f"/tickets/{no}")).text
            assert (await costs(shop, no))["coverage"] == "chargeable"

            await agent.post(f"/tickets/{no}/money/quote", data={"_csrf_token": token})
            assert "报价至少需要一行" in (await agent.get(f"/tickets/{no}")).text
            quote = {
                "_csrf_token": token,
                "item_1": "price:SVC-CAL",
                "quantity_1": "1",
                "item_2": "price:LAB-STD",
                "quantity_2": "2.5",
                "tax_percent": "13",
            }
            await agent.post(f"/tickets/{no}/money/quote", data=quote)
            page = (await agent.get(f"/tickets/{no}")).text
            link = re.search(r'class="link-box" readonly value="([^"]+)"', page)
            assert link and "/q/" in link[1], page
            # 800 + 2.5 × 180 = 1,250.00 net; 13 % VAT 162.50; 1,412.50
            assert "待客户确认" in page and "¥1412.50" in page and "¥162.50" in page
            again = (await agent.get(f"/tickets/{no}")).text
            assert link[1] not in again  # shown once
            assert f'/tickets/{no}/money/quote"' not in again  # one quote waits at a time
            quotes = (await shop.parts.get(f"/tickets/{no}/quotes", headers=KEEPER)).json()
            quote_no = quotes[0]["quote_no"]
            await agent.post(
                f"/tickets/{no}/money/withdraw",
                data={"_csrf_token": token, "quote_no": quote_no, "reason": "报价有误，重新报价"},
            )
            page = (await agent.get(f"/tickets/{no}")).text
            assert "报价已撤回" in page and "已撤回" in page and "撤回原因：报价有误" in page
            quotes = (await shop.parts.get(f"/tickets/{no}/quotes", headers=KEEPER)).json()
            assert quotes[0]["status"] == "withdrawn"


async def test_who_sees_the_section(desk_parts):
    async with open_shop(*desk_parts) as shop:
        async with shop.console() as dealer:
            await sign_in(dealer, "dealer-chen")
            r = await dealer.get(f"/tickets/{shop.warranty_ticket}")
            assert "备件与费用" not in r.text  # the desk's ticket is not his (404) either way
            forged = await dealer.post(
                f"/tickets/{shop.warranty_ticket}/money/issue",
                data={"_csrf_token": "x", "part_no": shop.bearing, "quantity": "1"},
            )
            assert forged.status_code == 403
        async with shop.console() as finance:
            await sign_in(finance, "fin-qian")
            page = (await finance.get(f"/tickets/{shop.warranty_ticket}")).text
            if "备件与费用" in page:  # finance reads the cost and has no form
                assert "/money/" not in page
        async with shop.console() as agent:
            await sign_in(agent, "agent-zhou")
            page = (await agent.get(f"/tickets/{shop.warranty_ticket}")).text
            assert "备件与费用" in page and "/money/issue" not in page
            await agent.post(
                f"/tickets/{shop.warranty_ticket}/money/issue",
                data={
                    "_csrf_token": csrf(page),
                    "part_no": shop.bearing,
                    "quantity": "1",
                    "idempotency_key": "forged-key-123",
                },
            )
            assert await stock(shop, shop.bearing, shop.van) == 3
