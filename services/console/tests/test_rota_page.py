"""The notification recipients and the duty rota against the real notifications service, at the
named moment sunday-evening: 张主管 registers 李主管 and 吴主管 in service_supervisor (not without a
channel, not with a bad group), changes 李主管's phone, puts her on duty for the Sunday night (a
shift ending before it starts refused), sees her 当班 and alone in notifications' own on-duty
answer, removes the shift (out of hours the whole group hears a duty alert again); the engineer
and the dealer get 403 and a forged post writes nothing. In Chromium at both sizes: screenshot
29, axe."""

from __future__ import annotations

import re

import httpx
from a11y import accessible
from console_support import CSRF_FIELD, sign_in
from test_admin_pages import _keep
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE
from aftersales_testing.support import auth, migrated, runtime_of
from console.app import create_app
from console.settings import ConsoleSettings

SUP = auth("service_supervisor", sub="sup-zhang")


async def _apps(databases, nats_url):
    from notifications.app import create_app as notifications_app
    from notifications.settings import NotificationsSettings

    app = notifications_app(
        NotificationsSettings(
            database_url=await migrated(databases, "notifications"), nats_url=nats_url
        )
    )
    console = create_app(
        ConsoleSettings(local_dev=True, nats_url=nats_url),
        transport=httpx.ASGITransport(app=app),
    )
    return app, console


def client(console) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=console), base_url="http://console.test", timeout=30
    )


async def test_recipients_and_the_duty_rota(databases, streams_ready, clock, artifacts_dir):
    clock.at("sunday-evening")
    app, console = await _apps(databases, streams_ready)
    notifications = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://n.test", timeout=30
    )
    try:
        async with client(console) as sup:
            await sign_in(sup, "sup-zhang")
            page = await sup.get("/admin/recipients")
            assert page.status_code == 200, page.text
            token = CSRF_FIELD.search(page.text)[1]
            li = {
                "_csrf_token": token,
                "id": "sup-li",
                "name": "李主管",
                "phone": "13900000001",
                "groups": "service_supervisor",
                "channel_sms": "on",
            }
            await sup.post("/admin/recipients/recipient", data=li | {"channel_sms": ""})
            assert "请至少选择一个通知渠道" in (await sup.get("/admin/recipients")).text
            await sup.post("/admin/recipients/recipient", data=li | {"groups": "Service Desk"})
            assert "组名只能用小写字母和下划线" in (await sup.get("/admin/recipients")).text
            await sup.post("/admin/recipients/recipient", data=li)
            wu = li | {"id": "sup-wu", "name": "吴主管", "phone": "13900000003"}
            await sup.post("/admin/recipients/recipient", data=wu)
            page = (await sup.get("/admin/recipients")).text
            assert (
                "已登记接收人" in page
                and "<strong>service_supervisor</strong>：李主管、吴主管" in page
            )
            edit = li | {"phone": "13900000002", "email": "li@example.cn", "active": "on"}
            await sup.post("/admin/recipients/edit", data=edit)
            assert "已保存接收人" in (await sup.get("/admin/recipients")).text
            li_now = (await notifications.get("/recipients/sup-li", headers=SUP)).json()
            assert li_now["phone"].endswith("13900000002") and li_now["email"] == "li@example.cn"

            night = {
                "_csrf_token": token,
                "group": "service_supervisor",
                "recipient_id": "sup-li",
                "starts_at": "2026-11-29T18:00",
                "ends_at": "2026-11-30T09:00",
                "note": "周日夜班",
            }
            await sup.post("/admin/recipients/shift", data=night | {"ends_at": "2026-11-29T17:00"})
            assert "结束时间须晚于开始时间" in (await sup.get("/admin/recipients")).text
            await sup.post("/admin/recipients/shift", data=night)
            page = (await sup.get("/admin/recipients")).text
            assert "已排班" in page and "2026-11-29 18:00 – 2026-11-30 09:00" in page
            assert "当班" in page and "周日夜班" in page
            on = await notifications.get(
                "/duty-shifts/on-duty", params={"group": "service_supervisor"}, headers=SUP
            )
            assert [p["id"] for p in on.json()["recipients"]] == ["sup-li"]
            assert not on.json()["working_time"]  # Sunday evening: only who is on shift
            later = night | {
                "starts_at": "2026-12-05T18:00",
                "ends_at": "2026-12-06T09:00",
                "note": "",
            }
            await sup.post("/admin/recipients/shift", data=later)
            shown = (await sup.get("/admin/recipients?group=service_supervisor")).text
            assert shown.count('id="shift-') == 2
            assert (await sup.get("/admin/recipients?group=Bad-Group")).status_code == 400

        async with client(console) as eng:
            await sign_in(eng, "eng-zhang")
            assert (await eng.get("/admin/recipients")).status_code == 403
            r = await eng.post(
                "/admin/recipients/remove_shift", data={"_csrf_token": token, "shift_id": "1"}
            )
            assert r.status_code == 403
        async with client(console) as dealer:
            await sign_in(dealer, "dealer-chen")
            assert (await dealer.get("/admin/recipients")).status_code == 403
        shifts = (await notifications.get("/duty-shifts", headers=SUP)).json()["items"]
        assert len(shifts) == 2

        shots = artifacts_dir / "console"
        shots.mkdir(exist_ok=True)
        async with serving(console) as base, chromium() as chrome:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, tab = await _page(chrome, base, size, outside)
                await _sign_in(tab, base, "sup-zhang", "/admin/recipients")
                await _fits(tab, size["width"])
                await tab.screenshot(path=str(shots / f"{name}-29-rota.png"), full_page=True)
                await accessible(tab, f"{name}-29-rota", shots)
                assert outside == [], outside
                await context.close()
        _keep(shots, "29")

        async with client(console) as sup:
            await sign_in(sup, "sup-zhang")
            page = (await sup.get("/admin/recipients")).text
            first = re.search(r'name="shift_id" value="(\d+)"', page)[1]
            token = CSRF_FIELD.search(page)[1]
            await sup.post(
                "/admin/recipients/remove_shift", data={"_csrf_token": token, "shift_id": first}
            )
            page = (await sup.get("/admin/recipients")).text
            assert "已删除班次" in page and "周日夜班" not in page
            on = await notifications.get(
                "/duty-shifts/on-duty", params={"group": "service_supervisor"}, headers=SUP
            )
            # nobody on shift: out of hours the whole group hears it again (notifications' rule)
            assert [p["id"] for p in on.json()["recipients"]] == ["sup-li", "sup-wu"]
    finally:
        await notifications.aclose()
        await runtime_of(app).engine.dispose()
