"""The contract review inbox against the real contracts service: each department (legal, finance,
delivery) sees the contracts in review still waiting for its own part, signs off or rejects with
its reasons as itself; a rejection sends the draft back to sales and out of every inbox; only
reviewers get the page."""

from __future__ import annotations

import re

from console_support import sign_in
from contracts_flow import LEGAL
from review_support import open_reviews

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def inbox(html: str) -> list[str]:
    return re.findall(r'<a class="no" href="/reviews/([^"]+)">', html)


def flash(html: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>', html)
    return f"{found[1]}: {found[2]}" if found else ""


async def test_each_department_signs_off_or_rejects_its_own_part(desk_parts):
    async with open_reviews(*desk_parts) as world:
        a, b = world.submitted
        async with (
            world.console() as legal,
            world.console() as finance,
            world.console() as delivery,
            world.console() as engineer,
        ):
            for client, sub in (
                (legal, "legal-zheng"),
                (finance, "fin-qian"),
                (delivery, "dlv-sun"),
                (engineer, "eng-zhang"),
            ):
                await sign_in(client, sub)
            assert (await engineer.get("/reviews")).status_code == 403
            home = await legal.get("/")
            assert home.headers["location"] == "/reviews"

            page = await legal.get("/reviews")
            assert page.status_code == 200, page.text
            assert sorted(inbox(page.text)) == sorted([a, b])
            assert world.customer in page.text and "¥21500.50" in page.text  # the price's sum

            detail = await legal.get(f"/reviews/{a}")
            assert detail.status_code == 200 and 'id="review-legal"' in detail.text
            assert 'id="review-finance"' not in detail.text  # only my department's part
            assert "上海国际仲裁中心" in detail.text
            token = CSRF.search(detail.text)[1]

            refused = await legal.post(
                f"/reviews/{a}", data={"part": "legal", "decision": "approve"}
            )
            assert refused.status_code == 403  # no CSRF token

            async def decide(client, no: str, token: str, **form: str) -> str:
                r = await client.post(f"/reviews/{no}", data={**form, "_csrf_token": token})
                assert r.status_code == 302, r.text
                return (await client.get(r.headers["location"])).text

            page = await decide(legal, a, token, part="finance", decision="approve")
            assert flash(page) == "error: 您只能评审本部门的部分"
            page = await decide(legal, a, token, part="legal", decision="approve", comments="同意")
            assert flash(page) == f"ok: 合同 {a} 法务评审已通过" and inbox(page) == [b]

            page = (await finance.get(f"/reviews/{b}")).text
            ftoken = CSRF.search(page)[1]
            page = await decide(finance, b, ftoken, part="finance", decision="reject")
            assert flash(page) == "error: 驳回时请写明理由，销售据此修改合同"
            page = await decide(
                finance, b, ftoken, part="finance", decision="reject", comments="付款期限过长"
            )
            assert flash(page).startswith(f"ok: 合同 {b} 财务评审已驳回")
            assert inbox(page) == [a]  # b went back to sales
            # a decision already taken: the contracts API's own words
            page = await decide(legal, a, token, part="legal", decision="approve")
            assert flash(page).startswith("error: legal部分本轮已签署意见"), flash(page)
            assert (await legal.get("/reviews/%3Cx%3E")).status_code == 400

            assert inbox((await legal.get("/reviews")).text) == []
            assert inbox((await delivery.get("/reviews")).text) == [a]

        contract = (await world.client.get(f"/contracts/{b}", headers=LEGAL)).json()
        assert contract["status"] == "draft"
