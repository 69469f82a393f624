"""The complaints page against the real tickets service: the desk, supervisors and managers see the
open complaints with level, type, step, owner and the step's deadline (Beijing time, worked out by
tickets in working time: a complaint opened on a Sunday evening is due to be acknowledged on
Monday); a completed ticket's complaint is not listed; an engineer only those about his work
(none here); other roles get a 403 page; no session
goes to sign in."""

from __future__ import annotations

import re

from console_support import open_desk, open_ticket, sign_in

ROW = re.compile(r'<tr class="row complaint[^"]*">(.*?)</tr>', re.S)


async def test_open_complaints_with_level_type_step_and_deadline(desk_parts):
    async with open_desk(*desk_parts) as desk:
        serious = await open_ticket(
            desk.tickets,
            request_type="complaint",
            customer_name="嘉兴某某纺织",
            complaint_level="serious",
            complaint_type="service_attitude",
        )
        plain = await open_ticket(
            desk.tickets, request_type="complaint", customer_name="湖州某某电器"
        )
        async with desk.console() as sup:
            await sign_in(sup, "sup-zhang")
            page = await sup.get("/complaints")
            assert page.status_code == 200, page.text
            rows = {
                re.search(r'href="/complaints/([^"]+)"', r)[1]: r for r in ROW.findall(page.text)
            }
            assert set(rows) == {serious, plain}  # the desk's repairs are not complaints
            assert "严重" in rows[serious] and "服务态度" in rows[serious]
            assert "嘉兴某某纺织" in rows[serious] and "待受理确认" in rows[serious]
            assert "未分类" in rows[plain] and "一般" in rows[plain]
            # opened Sunday 20:57: the acknowledgement is due in Monday's working hours
            assert "11-30 周一" in rows[serious], rows[serious]
            assert "未结投诉 2 件" in page.text and 'data-live="/live"' in page.text

        async with desk.console() as other:
            await sign_in(other, "fin-qian")
            refused = await other.get("/complaints")
            assert refused.status_code == 403
            assert "嘉兴某某纺织" not in refused.text
        async with desk.console() as zhang:  # an engineer: about his work only (none here)
            await sign_in(zhang, "eng-zhang")
            own = await zhang.get("/complaints")
            assert own.status_code == 200 and "我的投诉" in own.text
            assert "嘉兴某某纺织" not in own.text and "未结投诉 0 件" in own.text
        async with desk.console() as chen:  # a dealer: its own complaints only (none here)
            await sign_in(chen, "dealer-chen")
            own = await chen.get("/complaints")
            assert own.status_code == 200 and "未结投诉 0 件" in own.text
            assert "嘉兴某某纺织" not in own.text and "湖州某某电器" not in own.text
        async with desk.console() as nobody:
            r = await nobody.get("/complaints")
            assert r.status_code in (302, 303) and "/login" in r.headers["location"]
