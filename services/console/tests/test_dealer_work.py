"""The dealer's day's writes from the portal against the real dealers service: 陈经理 of D-ZJ-01
registers a unit he sold, opens a repair record for his unit, arranges and completes it, and ships
the old parts owed back. Each form: success (post/redirect/get, a flash), a refusal in the API's
words re-rendered with what was typed kept, no CSRF token → 403, another dealer's record → the
API's 404 as a 404 page, a non-dealer → 403."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

from console_support import sign_in
from dealer_support import MANAGER, OURS, TZ, open_dealers, today, uid
from test_dealer_portal import CSRF, flash, section

ALERT = re.compile(r'<p class="flash flash-error[^"]*" role="alert">([^<]*)</p>')


def alert(html: str) -> str:
    found = ALERT.search(html)
    return unescape(found[1]) if found else ""


def kept(html: str, name: str) -> str:
    """The value a text input of the re-rendered form keeps."""
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    return unescape(found[1]) if found else ""


def local(at: datetime) -> str:
    return f"{at.astimezone(TZ):%Y-%m-%dT%H:%M}"


async def _signed_in(world, dealer, desk) -> str:
    await sign_in(desk, "sup-zhang")
    await sign_in(dealer, "dealer-chen")
    page = await dealer.get("/dealer")
    assert page.status_code == 200, page.text
    return CSRF.search(page.text)[1]


def _problem(r, status: int) -> None:
    assert r.status_code == status, r.text
    assert 'class="problem"' in r.text and "<form" not in r.text.split("</header>")[-1]


async def test_a_unit_sold_is_registered_and_refusals_keep_what_was_typed(desk_parts):
    async with open_dealers(*desk_parts) as world:
        async with world.console() as dealer, world.console() as desk:
            csrf = await _signed_in(world, dealer, desk)
            serial = uid("SN")
            sale = {
                "serial_no": serial,
                "model": "XK-300",
                "sale_date": str(today() + timedelta(days=1)),  # tomorrow: the API refuses
                "warranty_end": str(today() + timedelta(days=730)),
                "customer_name": "绍兴某某纺机",
                "_csrf_token": csrf,
            }
            assert (
                await dealer.post("/dealer/units", data={**sale, "_csrf_token": ""})
            ).status_code == 403
            assert (await desk.post("/dealer/units", data=sale)).status_code == 403

            r = await dealer.post("/dealer/units", data=sale)
            assert r.status_code == 422 and alert(r.text).startswith("销售日期不能晚于今天")
            units = section(r.text, "units")
            assert kept(units, "serial_no") == serial and kept(units, "model") == "XK-300"
            assert (
                kept(units, "customer_name") == "绍兴某某纺机"
                and '<details class="action" id="sale" open>' in units
            )

            r = await dealer.post("/dealer/units", data={**sale, "model": " "})
            assert (r.status_code, alert(r.text)) == (400, "请填写型号")
            assert kept(section(r.text, "units"), "serial_no") == serial

            r = await dealer.post("/dealer/units", data={**sale, "sale_date": str(today())})
            assert (r.status_code, r.headers["location"]) == (302, "/dealer#units"), r.text
            page = (await dealer.get("/dealer")).text
            due = today() + timedelta(days=20)
            assert flash(page) == f"ok: {serial} 已登记销售，请在 {due} 前登记回执卡"
            row = (
                section(page, "units").split(f'<div class="no">{serial}</div>')[1].split("</tr>")[0]
            )
            assert "XK-300" in row and '<span class="tag ok">剩 20 天</span>' in row

            # the same serial again: the API's words (409), the values kept
            r = await dealer.post("/dealer/units", data={**sale, "sale_date": str(today())})
            assert r.status_code == 409 and alert(r.text).startswith(f"序列号{serial}已登记销售")
            assert kept(section(r.text, "units"), "customer_name") == "绍兴某某纺机"

        unit = await world.client.get(f"/units/{serial}", headers=MANAGER)
        assert (unit.json()["dealer_id"], unit.json()["model"]) == (OURS, "XK-300")


async def test_a_repair_record_is_opened_arranged_and_completed_step_by_step(desk_parts):
    async with open_dealers(*desk_parts) as world:
        ours, theirs = world.ours, world.theirs
        async with world.console() as dealer, world.console() as desk:
            csrf = await _signed_in(world, dealer, desk)
            opened = {
                "serial_no": theirs["carded"],  # another dealer's unit: no warranty here
                "kind": "warranty",
                "ticket_no": "SV-20261129-0007",
                "fault_description": "液压站漏油",
                "_csrf_token": csrf,
            }
            assert (await desk.post("/dealer/repairs", data=opened)).status_code == 403
            r = await dealer.post("/dealer/repairs", data={**opened, "_csrf_token": "x"})
            assert r.status_code == 403
            r = await dealer.post("/dealer/repairs", data=opened)
            assert r.status_code == 422 and "不是本经销商售出的设备" in alert(r.text)
            repairs = section(r.text, "repairs")
            assert (
                "液压站漏油</textarea>" in repairs
                and kept(repairs, "ticket_no") == "SV-20261129-0007"
            )
            assert theirs["carded"] not in section(r.text, "units")  # nothing of theirs shown

            r = await dealer.post("/dealer/repairs", data={**opened, "serial_no": ours["carded"]})
            assert r.status_code == 302, r.text
            url = r.headers["location"]
            record_id = url.rsplit("/", 1)[1]
            page = (await dealer.get(url)).text
            assert flash(page).startswith("ok: 维修记录 WX-") and "前安排服务" in flash(page)
            assert f'action="/dealer/repairs/{record_id}/arrange"' in page
            assert "/complete" not in page  # only the step the status allows
            assert "液压站漏油" in page

            appointment = local(datetime.now(TZ) + timedelta(hours=2))
            arrange = {"engineer": "李师傅", "appointment_at": appointment, "_csrf_token": csrf}
            r = await dealer.post(f"{url}/arrange", data=arrange)  # the user was not told
            assert r.status_code == 422 and alert(r.text).startswith("安排三包服务时须告知用户")
            assert (
                kept(r.text, "engineer") == "李师傅"
                and kept(r.text, "appointment_at") == appointment
            )
            _problem(
                await dealer.post(
                    f"/dealer/repairs/{theirs['owing']['id']}/arrange",
                    data={**arrange, "user_informed": "on"},
                ),
                404,
            )
            assert (
                await dealer.post(f"{url}/arrange", data={**arrange, "_csrf_token": ""})
            ).status_code == 403
            assert (await desk.post(f"{url}/arrange", data=arrange)).status_code == 403
            r = await dealer.post(f"{url}/arrange", data={**arrange, "user_informed": "on"})
            assert (r.status_code, r.headers["location"]) == (302, url), r.text
            page = (await dealer.get(url)).text
            assert flash(page).endswith("服务已安排") and "李师傅" in page
            assert "/arrange" not in page and f'action="{url}/complete"' in page

            done = {
                "repair_description": "更换液压泵密封圈",
                "part_no_1": "P-200",
                "name_1": "液压泵密封圈",
                "qty_1": "3",
                "cost_1": "12.5",
                "part_no_2": "P-201",  # half a row
                "labour_fee": "80",
                "travel_fee": "1234.5",
                "confirmed_by": "王工",
                "confirmed_at": local(datetime.now(TZ) + timedelta(days=1)),
                "method": "signature",
                "_csrf_token": csrf,
            }
            r = await dealer.post(f"{url}/complete", data=done)
            assert (r.status_code, alert(r.text)) == (
                400,
                "备件第2行：请填写零件号、名称、数量和单价",
            )
            assert kept(r.text, "part_no_2") == "P-201" and kept(r.text, "qty_1") == "3"
            done |= {"name_2": "O 形圈", "qty_2": "1", "cost_2": "0.8"}
            r = await dealer.post(f"{url}/complete", data=done)  # confirmed tomorrow
            assert r.status_code == 422 and alert(r.text).startswith("用户确认时间不能晚于当前时间")
            assert kept(r.text, "name_2") == "O 形圈" and "更换液压泵密封圈</textarea>" in r.text
            _problem(
                await dealer.post(f"/dealer/repairs/{theirs['owing']['id']}/complete", data=done),
                404,
            )
            assert (await desk.post(f"{url}/complete", data=done)).status_code == 403

            done["confirmed_at"] = ""  # empty: confirmed now
            r = await dealer.post(f"{url}/complete", data=done)
            assert (r.status_code, r.headers["location"]) == (302, url), r.text
            page = (await dealer.get(url)).text
            assert flash(page).endswith("维修已完成") and "<form" not in page.split("</h1>")[1]
            assert "液压泵密封圈 ×3" in page and "¥37.50" in page and "¥0.80" in page
            assert "差旅费 ¥1,234.50" in page and "待返还" in page

        record = (await world.client.get(f"/repair-records/{record_id}", headers=MANAGER)).json()
        assert (record["dealer_id"], record["status"], record["engineer"]) == (
            OURS,
            "completed",
            "李师傅",
        )
        assert [(p["part_no"], p["quantity"]) for p in record["parts"]] == [
            ("P-200", 3),
            ("P-201", 1),
        ]
        other = (
            await world.client.get(f"/repair-records/{theirs['owing']['id']}", headers=MANAGER)
        ).json()
        assert other["engineer"] == "张师傅" and other["status"] == "completed"


async def test_old_parts_owed_back_are_shipped_with_a_waybill(desk_parts):
    async with open_dealers(*desk_parts) as world:
        ours, theirs = world.ours, world.theirs
        owing = ours["owing"]
        async with world.console() as dealer, world.console() as desk:
            csrf = await _signed_in(world, dealer, desk)
            returns = section((await dealer.get("/dealer")).text, "returns")
            assert f'name="record:{owing["id"]}"' in returns
            assert f'name="record:{ours["labour_only"]["id"]}"' not in returns  # owes nothing
            ship = {f"record:{owing['id']}": "on", "carrier": "顺丰速运", "waybill": "SF1234567890"}
            ship["_csrf_token"] = csrf
            assert (await desk.post("/dealer/shipments", data=ship)).status_code == 403
            assert (
                await dealer.post("/dealer/shipments", data={**ship, "_csrf_token": ""})
            ).status_code == 403

            r = await dealer.post("/dealer/shipments", data={**ship, f"record:{owing['id']}": ""})
            assert (r.status_code, alert(r.text)) == (400, "请勾选要寄回旧件的维修记录")
            assert kept(section(r.text, "returns"), "waybill") == "SF1234567890"
            # a record owing nothing alongside: the API's words, the ticks and the waybill kept
            r = await dealer.post(
                "/dealer/shipments", data={**ship, f"record:{ours['labour_only']['id']}": "on"}
            )
            assert r.status_code == 422 and alert(r.text).startswith("以下维修记录没有待返还的旧件")
            returns = section(r.text, "returns")
            assert re.search(rf'name="record:{owing["id"]}" value="on" checked', returns)
            assert kept(returns, "carrier") == "顺丰速运"
            # another dealer's record: refused by the API, nothing of it shipped or shown
            r = await dealer.post(
                "/dealer/shipments", data={f"record:{theirs['owing']['id']}": "on", **ship}
            )
            assert r.status_code == 422 and "不存在或不属于经销商" in alert(r.text)
            assert theirs["owing"]["record_no"] not in r.text

            r = await dealer.post("/dealer/shipments", data=ship)
            assert (r.status_code, r.headers["location"]) == (302, "/dealer#returns"), r.text
            page = (await dealer.get("/dealer")).text
            assert re.fullmatch(
                r"ok: 旧件已寄出：发运单 FH-\S+，1 件，运单号 SF1234567890", flash(page)
            )
            returns = section(page, "returns")
            assert f'name="record:{owing["id"]}"' not in returns and "没有待返还的旧件" in returns
            shipped = returns.split('id="shipped"')[1]
            assert (
                owing["record_no"] in shipped
                and "SF1234567890" in shipped
                and "顺丰速运" in shipped
            )
            repair = (await dealer.get(f"/dealer/repairs/{owing['id']}")).text
            assert "已寄出" in repair and "SF1234567890" in repair

        mine = (await world.client.get(f"/repair-records/{owing['id']}", headers=MANAGER)).json()
        assert [p["status"] for p in mine["parts"]] == ["shipped"]
        theirs_now = (
            await world.client.get(f"/repair-records/{theirs['owing']['id']}", headers=MANAGER)
        ).json()
        assert [p["status"] for p in theirs_now["parts"]] == ["owed"]
