"""Phone intake against the real tickets service: the caller found by contract or serial number,
the entitlement and the service level that will apply, knowledge-base suggestions for what is
typed, the ticket opened as the signed-in agent and its page shown; what the desk got wrong comes
back with what was typed kept and a message saying what to fix (the API's own when it refused)."""

from __future__ import annotations

import re

from console_support import open_desk, sign_in
from test_knowledge import completed_ticket, published_article
from tickets_helpers import entitle, uid

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def level_row(html: str, urgency: str) -> list[str]:
    row = html.split(f'<tr data-urgency="{urgency}">')[1].split("</tr>")[0]
    return re.findall(r"<div>([^<]*)</div>", row)


async def test_the_agent_finds_the_caller_sees_the_level_and_opens_the_ticket(desk_parts):
    async with open_desk(*desk_parts) as desk:
        contract, serial = f"HT-{uid()}", f"SN-{uid()}"
        await entitle(desk.tickets_app, contract, [serial, f"SN-{uid()}"], dealer_id="D-ZJ-01")
        # a solved case in the knowledge base
        solved = await completed_ticket(
            desk.tickets, "主轴异响，转速越高声音越大", serial, work=[("更换主轴轴承", [])]
        )
        await published_article(desk.tickets, solved, title="主轴轴承磨损导致异响")

        async with desk.console() as agent, desk.console() as engineer:
            await sign_in(agent, "agent-zhou")
            await sign_in(engineer, "eng-zhang")
            assert (await engineer.get("/intake")).status_code == 403

            page = await agent.get(f"/intake?contract_no={contract}")
            assert page.status_code == 200, page.text
            html = page.text
            assert "无锡某某设备有限公司" in html and "D-ZJ-01" in html and "在保" in html
            # urgent: the contract's level; the others: the company's default
            assert level_row(html, "urgent") == ["1小时", "4小时", "8小时"]
            assert "公司默认标准" in level_row(html, "normal") and "合同未约定" in html
            assert 'name="contact_name" required maxlength="100" value="赵工"' in html

            page = (await agent.get(f"/intake?serial_no={serial}")).text
            assert f'name="contract_no" value="{contract}"' in page
            assert f'name="serial_no" value="{serial}"' in page and '<tr class="chosen">' in page
            assert 'name="product_model" id="product_model" maxlength="100" value="XK-200"' in page

            page = await agent.get("/intake?contract_no=HT-NOT-THERE")
            assert page.status_code == 200 and "未找到合同 HT-NOT-THERE" in page.text
            bad = await agent.get("/intake?serial_no=%3Cscript%3E")
            assert bad.status_code == 400 and "序列号只能包含" in bad.text
            climb = await agent.get("/intake", params={"contract_no": "HT/../../tickets"})
            assert climb.status_code == 400 and "合同号只能包含" in climb.text  # never a path

            hints = await agent.get("/intake/suggestions", params={"q": "主轴有异响"})
            assert hints.status_code == 200 and "主轴轴承磨损导致异响" in hints.text
            assert "<html" not in hints.text  # a partial for the page's script
            none = await agent.get("/intake/suggestions", params={"q": "触摸屏黑屏"})
            assert "没有相似的案例" in none.text

            token = CSRF.search(html)[1]
            form = {
                "contract_no": contract,
                "serial_no": serial,
                "customer_name": "无锡某某设备有限公司",
                "product_model": "XK-200",
                "request_type": "quality_issue",
                "urgency": "urgent",
                "contact_name": "赵工",
                "contact_phone": "13912345678",
                "description": "",
            }
            refused = await agent.post("/intake", data={**form, "description": "主轴异响"})
            assert refused.status_code == 403  # no CSRF token

            missing = await agent.post("/intake", data={**form, "_csrf_token": token})
            assert missing.status_code == 400 and "请填写问题描述" in missing.text
            assert (
                'value="赵工"' in missing.text and level_row(missing.text, "urgent")[0] == "1小时"
            )

            unknown = {**form, "contract_no": "", "serial_no": "SN-NOBODY", "description": "异响"}
            said = await agent.post("/intake", data={**unknown, "_csrf_token": token})
            assert said.status_code in (404, 409, 422), said.text  # the tickets API's answer
            assert "use_default_policy" in said.text and "SN-NOBODY" in said.text

            opened = await agent.post(
                "/intake", data={**form, "description": "主轴异响，昨天开始", "_csrf_token": token}
            )
            assert opened.status_code == 302, opened.text
            where = opened.headers["location"]
            assert re.fullmatch(r"/tickets/[A-Z]+-\d{8}-\d{4}", where), where
            page = (await agent.get(where)).text
            assert "主轴异响，昨天开始" in page and contract in page and "紧急" in page
            similar = page.split('<section class="similar"')[1].split("</section>")[0]
            assert "主轴轴承磨损导致异响" in similar  # the solved case, on the ticket's page too
