"""Withdrawing a request (撤回申请) and reversing an invoice (红冲) on finance's register, against
the real tickets, parts and contracts services: each row offers the form its state allows; a refused
form comes back at its row with parts' words (or the console's) and what was typed; done, the row
says 已撤回 / 已红冲 with who, when, why and the red number, the status filter finds it and the
sums leave it out; CSRF and the roles are checked."""

from __future__ import annotations

import html
from decimal import Decimal

from console_support import CSRF_FIELD, sign_in
from invoice_support import open_office

BLUE, RED = "26322000000011112222", "26322000000033334444"


def _row(page: str, invoice_id: str) -> str:
    """The row's HTML, from its <tr> to the next."""
    start = page.index(f'id="invoice-{invoice_id}"')
    end = page.find('<tr class="row invoice"', start)
    return page[start : end if end > 0 else len(page)]


async def test_withdrawing_and_reversing_from_the_register(desk_parts):
    async with open_office(*desk_parts) as office:
        waiting, issued, *rest = office.invoices
        async with office.console() as web:
            await sign_in(web, "fin-qian")
            page = await web.get("/invoices")
            token = CSRF_FIELD.search(page.text)[1]
            row = _row(page.text, waiting["invoice_id"])
            assert f"/invoices/{waiting['invoice_id']}/cancel" in row and "撤回申请" in row
            assert "/reverse" not in row  # a waiting request is withdrawn, not reversed

            # refused by the console (too short) and by parts (a number one digit short)
            cancel = f"/invoices/{waiting['invoice_id']}/cancel"
            r = await web.post(cancel, data={"reason": "错", "_csrf_token": token})
            assert r.status_code == 422 and "撤回原因至少 2 个字" in r.text
            assert ">错</textarea>" in _row(r.text, waiting["invoice_id"])
            assert (await web.post(cancel, data={"reason": "购买方名称填错"})).status_code == 403

            why = "购买方名称填错，需重开"
            done = await web.post(cancel, data={"reason": why, "_csrf_token": token})
            assert done.status_code in (302, 303), done.text
            after = await web.get(done.headers["location"])
            assert "已撤回工单" in after.text
            row = _row(after.text, waiting["invoice_id"])
            assert "已撤回" in row and why in row and "fin-qian" in row and "<form" not in row
            # the sums are of the five live ones; the withdrawn one is named apart
            live = sum(Decimal(i["total"]) for i in office.invoices[1:])
            assert f"¥{live:.2f}" in after.text
            assert f"另有已撤回/已红冲 1 张，价税合计 ¥{waiting['total']}" in after.text
            gone = await web.get("/invoices", params={"status": "cancelled"})
            assert waiting["ticket_no"] in gone.text and issued["ticket_no"] not in gone.text

            # register the next one, then reverse it
            issue = f"/invoices/{issued['invoice_id']}/issue"
            body = {"invoice_number": BLUE, "issue_date": "2026-11-29", "_csrf_token": token}
            assert (await web.post(issue, data=body)).status_code in (302, 303)
            page = await web.get("/invoices")
            row = _row(page.text, issued["invoice_id"])
            assert f"/invoices/{issued['invoice_id']}/reverse" in row and "/cancel" not in row
            reverse = f"/invoices/{issued['invoice_id']}/reverse"
            typed = {
                "red_invoice_number": RED[:19],
                "red_issue_date": "2026-11-29",
                "reason": "sales_allowance",
                "note": "折让 5%",
            }
            r = await web.post(reverse, data=typed | {"_csrf_token": token})
            assert r.status_code == 422 and "应为20位数字（现为19位）" in r.text
            row = _row(r.text, issued["invoice_id"])
            assert f'value="{RED[:19]}"' in row and html.escape("折让 5%") in row
            assert '<option value="sales_allowance" selected>' in row
            r = await web.post(reverse, data=typed | {"reason": "", "_csrf_token": token})
            assert r.status_code == 422 and "请选择红冲原因" in r.text
            typed["red_invoice_number"] = RED
            done = await web.post(reverse, data=typed | {"_csrf_token": token})
            assert done.status_code in (302, 303), done.text
            after = await web.get(done.headers["location"])
            assert f"已红冲工单 {issued['ticket_no']} 的发票 {BLUE}，红字发票 {RED}" in after.text
            row = _row(after.text, issued["invoice_id"])
            assert "已红冲" in row and RED in row and "销售折让" in row and "fin-qian" in row
            assert "sales_allowance" not in row  # the words, not the code
            again = await web.post(
                reverse,
                data=typed | {"red_invoice_number": BLUE[:-4] + "9999", "_csrf_token": token},
            )
            assert again.status_code == 409 and f"已红冲，红字发票{RED}" in again.text
            found = await web.get("/invoices", params={"status": "reversed"})
            assert issued["ticket_no"] in found.text and waiting["ticket_no"] not in found.text
            assert "状态只能是" in (await web.get("/invoices", params={"status": "x"})).text

        for who in ("eng-zhang", "dealer-chen"):
            async with office.console() as web:
                await sign_in(web, who)
                page = await web.get("/invoices")  # the refusal page keeps the sign-out form
                assert page.status_code == 403
                token = CSRF_FIELD.search(page.text)[1]
                r = await web.post(
                    f"/invoices/{rest[0]['invoice_id']}/cancel",
                    data={"reason": "不该能撤回", "_csrf_token": token},
                )
                assert r.status_code == 403, (who, r.status_code)
