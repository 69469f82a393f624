"""The dealer portal's stocking plans (备件计划): 陈经理 sees each selling season with the days left
until its plan is due (30 days before the season), pastes his plan from Excel, is told line by line
what is wrong with the text kept for mending, and sees the plan as submitted; a second plan for
the season is refused in the dealers API's words; another dealer's plan never shows."""

from __future__ import annotations

import re

import pytest
from console_support import sign_in
from dealer_support import MANAGER, OURS, THEIR_PART, open_dealers

from console.dealer import PlanTextError, parse_plan

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def row(html: str, code: str) -> str:
    return html.split(f"<small>{code}</small>")[1].split("</tr>")[0]


def test_a_pasted_plan_is_read_line_by_line():
    text = (
        "P-100\t主轴轴承\t20\n\n  P-200，液压泵 密封圈，５\n"
        "P-300, O 形圈 大号 ,3\nP-400 滤芯 组件 12\n"
    )
    assert parse_plan(text) == [
        {"part_no": "P-100", "name": "主轴轴承", "quantity": 20},
        {"part_no": "P-200", "name": "液压泵 密封圈", "quantity": 5},  # a full-width digit
        {"part_no": "P-300", "name": "O 形圈 大号", "quantity": 3},
        {"part_no": "P-400", "name": "滤芯 组件", "quantity": 12},  # spaces: number … quantity
    ]
    for text, said in (
        ("P-1\t轴承\t0", "第1行：数量应为 1–100,000 的整数（现为“0”）"),
        ("P-1\t轴承\t²", "第1行：数量应为"),  # a digit int() cannot read: refused, not a 500
        ("P-1\t轴承\t" + "9" * 5000, "第1行：数量应为"),
        ("P-1\t轴承\t2.5", "第1行：数量应为"),
        ("\n\nP-1", "第3行：应为“零件号、名称、数量”三项"),
        ("P-1 轴承 2\nP-1 轴承 3", "第2行：零件号 P-1 与第1行重复"),
        ("P" * 65 + " 轴承 2", "第1行：零件号最多 64 字"),
        ("  \n\t\n", "请至少填写一种备件"),
        ("\n".join(f"P-{i} 轴承 1" for i in range(501)), "最多 500 种备件（现有 501 种）"),
    ):
        with pytest.raises(PlanTextError) as caught:
            parse_plan(text)
        assert said in str(caught.value), (text[:40], str(caught.value))
    many = "\n".join(f"P-{i} 轴承 0" for i in range(30))
    with pytest.raises(PlanTextError, match="另有 20 处"):  # the first ten problems, then a count
        parse_plan(many)


async def test_the_dealer_submits_its_plan_for_a_season(desk_parts):
    async with open_dealers(*desk_parts) as world:
        spring, summer = world.seasons
        async with world.console() as dealer:
            await sign_in(dealer, "dealer-chen")
            html = (await dealer.get("/dealer")).text
            plans = html.split('<section id="plans"')[1].split("</section>")[0]
            assert '<span class="tag ok">剩 10 天</span>' in row(plans, spring)
            assert '<span class="tag ok">剩 30 天</span>' in row(plans, summer)
            assert THEIR_PART["name"] not in html  # the other dealer planned spring: not shown

            url = f"/dealer/plans/{spring}"
            page = await dealer.get(url)
            assert page.status_code == 200 and 'name="lines"' in page.text
            assert THEIR_PART["part_no"] not in page.text
            token = CSRF.search(page.text)[1]
            assert (await dealer.post(url, data={"lines": "P-1 轴承 2"})).status_code == 403

            bad = "P-100\t主轴轴承\t0\nP-200 液压泵"
            r = await dealer.post(url, data={"lines": bad, "_csrf_token": token})
            assert r.status_code == 400
            assert "第1行：数量应为" in r.text and "第2行：应为“零件号、名称、数量”三项" in r.text
            assert "P-100\t主轴轴承\t0\nP-200 液压泵</textarea>" in r.text  # kept for mending

            good = "P-100\t主轴轴承\t20\nP-200，液压泵密封圈，50"
            r = await dealer.post(url, data={"lines": good, "_csrf_token": token})
            assert (r.status_code, r.headers["location"]) == (302, url), r.text
            page = (await dealer.get(url)).text
            assert f"{spring} 备件计划已提交（2 种备件）" in page
            assert "已按时提交" in page and "液压泵密封圈" in page and 'name="lines"' not in page

            # the form again (a second tab, a double tap): the API's refusal beside the plan in
            # force, nothing doubled
            r = await dealer.post(url, data={"lines": good, "_csrf_token": token})
            assert r.status_code == 400 and f"经销商{OURS}已提交{spring}备件计划" in r.text
            assert "液压泵密封圈" in r.text and 'name="lines"' not in r.text

            for path, status in (
                ("/dealer/plans/NO-SUCH-SEASON", 404),
                ("/dealer/plans/%3Cx%3E", 400),
            ):
                assert (await dealer.get(path)).status_code == status, path
            home = (await dealer.get("/dealer")).text
            assert '<span class="tag ok">已按时提交</span>' in row(home, spring)

        listed = await world.client.get(
            "/stocking-plans", params={"dealer_id": OURS, "season_code": spring}, headers=MANAGER
        )
        (plan,) = listed.json()["items"]
        assert plan["lines"] == [
            {"part_no": "P-100", "name": "主轴轴承", "quantity": 20},
            {"part_no": "P-200", "name": "液压泵密封圈", "quantity": 50},
        ]
        theirs = await world.client.get(
            "/stocking-plans", params={"dealer_id": world.other_id}, headers=MANAGER
        )
        assert [p["lines"] for p in theirs.json()["items"]] == [[THEIR_PART]]
