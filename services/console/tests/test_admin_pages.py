"""Admin pages against the real tickets service: its dead letters (two kept by its inbox — a
contract that failed to be handled, a malformed one) listed under the tickets tab, replayed from
their row as the admin: the first is handled (the entitlement is there afterwards), the second is
still malformed and says so in the service's words; CSRF on the replay form; other roles get 403.
In Chromium at both sizes: the page, a replay, the axe scan (screenshot 15). Working calendars:
provisional years, a year imported, the audit (screenshot 16)."""

from __future__ import annotations

import json
import re
import uuid

from a11y import accessible
from console_support import open_desk, sign_in
from report_events import contract
from sqlalchemy import insert
from test_board import csrf
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving
from tickets_helpers import AGENT

from aftersales_shared.db import dead_letters, utcnow
from aftersales_shared.events import ContractSignedV1
from aftersales_testing.browser import PHONE
from aftersales_testing.support import auth, runtime_of

ADMIN = auth("admin", sub="admin")


async def keep_dead_letters(app) -> tuple[int, int, str]:
    """A ContractSigned the tickets inbox failed to handle, and a malformed one: (ids, contract)."""
    rt = runtime_of(app)
    consumer = next(
        name
        for name, sub in rt.inbox.subscriptions.items()
        if issubclass(ContractSignedV1, sub.accepts)
    )
    env = contract([f"SN-{uuid.uuid4().hex[:8]}"], "XK-200", "B1", "2026-06-01T02:00:00Z")
    rows = [
        {
            "consumer": consumer,
            "subject": env.nats_subject,
            "event_id": env.id,
            "event_type": env.type,
            "headers": json.dumps(env.headers()),
            "body": env.body(),
            "reason": "failed",
            "error": "OperationalError: 数据库暂时不可用 (database unavailable)",
            "deliveries": 5,
            "created_at": utcnow(),
        },
        {
            "consumer": consumer,
            "subject": env.nats_subject,
            "event_id": f"bad-{uuid.uuid4().hex[:8]}",
            "event_type": env.type,
            "headers": json.dumps(env.headers() | {"ce-id": "bad"}),
            "body": b'{"contract_no": 1}',
            "reason": "malformed",
            "error": "contract_no: Input should be a valid string",
            "deliveries": 1,
            "created_at": utcnow(),
        },
    ]
    ids = []
    async with rt.sessions.begin() as session:
        for row in rows:
            result = await session.execute(insert(dead_letters).values(**row))
            ids.append(result.inserted_primary_key[0])
    return ids[0], ids[1], env.data.contract_no


async def test_the_admin_replays_dead_letters(desk_parts):
    async with open_desk(*desk_parts) as desk, desk.console() as browser:
        good, bad, contract_no = await keep_dead_letters(desk.tickets_app)
        await sign_in(browser, "admin")
        page = await browser.get("/admin/dead-letters")
        assert page.status_code == 200, page.text
        # the shared NATS server may hand this tickets app another test's event it cannot handle:
        # the two kept here are among the open ones, however many there are
        open_before = int(re.search(r"工单 tickets \((\d+)\)", page.text)[1])
        assert open_before >= 2 and 'href="/admin/dead-letters">死信' in page.text
        assert "数据库暂时不可用" in page.text and "格式错误" in page.text
        forms = re.findall(r'action="/admin/dead-letters/tickets/(\d+)/replay"', page.text)
        assert {good, bad} <= {int(f) for f in forms}

        # no CSRF token: refused, nothing replayed
        refused = await browser.post(f"/admin/dead-letters/tickets/{good}/replay")
        assert refused.status_code == 403
        r = await desk.tickets.get(f"/entitlements/{contract_no}", headers=AGENT)
        assert r.status_code == 404

        token = csrf(page.text)
        done = await browser.post(
            f"/admin/dead-letters/tickets/{good}/replay", data={"_csrf_token": token}
        )
        assert (done.status_code, done.headers["location"]) == (
            302,
            "/admin/dead-letters?service=tickets",
        )
        after = await browser.get(done.headers["location"])
        assert f"死信 {good} 已重放：已处理" in after.text
        assert f'action="/admin/dead-letters/tickets/{good}/replay"' not in after.text
        assert f'action="/admin/dead-letters/tickets/{bad}/replay"' in after.text
        r = await desk.tickets.get(f"/entitlements/{contract_no}", headers=AGENT)
        assert r.status_code == 200, r.text  # handled: the contract's entitlement is there

        again = await browser.post(
            f"/admin/dead-letters/tickets/{bad}/replay", data={"_csrf_token": token}
        )
        shown = (await browser.get(again.headers["location"])).text
        assert f"死信 {bad} 重放未成功" in shown and "still malformed" in shown
        replayed = await browser.get("/admin/dead-letters?service=tickets&status=replayed")
        assert "已重放" in replayed.text and f"/tickets/{good}/replay" not in replayed.text

        for url, status in (
            ("/admin/dead-letters?service=nope", 400),
            ("/admin/dead-letters?status=gone", 400),
        ):
            assert (await browser.get(url)).status_code == status
        assert (
            await browser.post("/admin/dead-letters/nope/1/replay", data={"_csrf_token": token})
        ).status_code == 404

    async with open_desk(*desk_parts) as desk:
        for sub in ("sup-zhang", "mgr-wang", "dealer-chen"):
            async with desk.console() as other:
                await sign_in(other, sub)
                r = await other.get("/admin/dead-letters")
                assert r.status_code == 403 and "管理页面仅供管理员使用" in r.text
                form = await other.get("/login")
                posted = await other.post(
                    "/admin/dead-letters/tickets/1/replay", data={"_csrf_token": csrf(form.text)}
                )
                assert posted.status_code == 403


async def test_the_dead_letters_page_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk:
        await keep_dead_letters(desk.tickets_app)
        await keep_dead_letters(desk.tickets_app)
        async with serving(desk.console_app) as base, chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "admin", "/admin/dead-letters")
                assert await page.locator("table.dead-letters tbody tr").count() >= 2
                async with page.expect_navigation():
                    row = page.locator("table.dead-letters tr", has_text="处理失败")
                    await row.locator("button.replay").first.click()
                assert "已重放" in await page.locator(".flash").inner_text()
                await _fits(page, size["width"])
                await page.screenshot(
                    path=str(shots / f"{name}-15-dead-letters.png"), full_page=True
                )
                await accessible(page, f"{name}-15-dead-letters", shots)
                assert outside == [], outside
                await context.close()
    _keep(shots, "15")


async def test_the_admin_sees_provisional_years_and_imports_one(desk_parts, artifacts_dir):
    """2028 has no official table (provisional); its table is imported (pasted as CSV) and is then
    marked imported; a table with a wrong kind is refused in the tickets API's words; CSRF."""
    async with open_desk(*desk_parts) as desk, desk.console() as browser:
        await sign_in(browser, "admin")
        page = await browser.get("/admin/calendars")
        assert page.status_code == 200, page.text
        assert re.search(
            r'<tr class="year-provisional">\s*<td data-label="年份"><div>2028', page.text
        )
        assert "暂定：无官方放假安排，请导入" in page.text and "工作时间" in page.text
        exported = await desk.tickets.get(
            "/calendars/national/years/2028", params={"format": "csv"}, headers=ADMIN
        )
        assert exported.status_code == 200
        table = exported.text + "2028-12-31,holiday,公司年终盘点\n"
        form = {"scope": "national", "year": "2028", "format": "csv", "content": table}

        refused = await browser.post("/admin/calendars/import", data=form)
        assert refused.status_code == 403  # no CSRF token

        token = csrf(page.text)
        wrong = await browser.post(
            "/admin/calendars/import",
            data=form
            | {"content": "date,kind,name\n2028-01-01,party,元旦\n", "_csrf_token": token},
        )
        shown = (await browser.get(wrong.headers["location"])).text
        assert "未导入 2028 年" in shown and "unknown kind" in shown
        missing = await browser.post(
            "/admin/calendars/import",
            data=form | {"content": " ", "year": "1", "_csrf_token": token},
        )
        shown = (await browser.get(missing.headers["location"])).text
        assert "年份须为 2000–2100 的整数" in shown and "请粘贴该年的放假安排" in shown

        done = await browser.post("/admin/calendars/import", data=form | {"_csrf_token": token})
        assert (done.status_code, done.headers["location"]) == (302, "/admin/calendars")
        after = (await browser.get("/admin/calendars")).text
        assert "已导入 national 2028 年" in after
        assert re.search(r'<tr class="year-imported">\s*<td data-label="年份"><div>2028', after)
        assert "admin" in after  # the change is in the audit list, by whom

        again = await desk.tickets.get(
            "/calendars/national/years/2028", params={"format": "csv"}, headers=ADMIN
        )
        assert "公司年终盘点" in again.text and again.headers["x-calendar-source"] == "imported"

        async with desk.console() as supervisor:
            await sign_in(supervisor, "sup-zhang")
            assert (await supervisor.get("/admin/calendars")).status_code == 403

        # in Chromium at both sizes: the page as it is after the import
        shots = artifacts_dir / "console"
        shots.mkdir(exist_ok=True)
        async with serving(desk.console_app) as base, chromium() as chrome:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, tab = await _page(chrome, base, size, outside)
                await _sign_in(tab, base, "admin", "/admin/calendars")
                assert "暂定" in await tab.locator("table.years").inner_text()
                await _fits(tab, size["width"])
                await tab.screenshot(path=str(shots / f"{name}-16-calendars.png"), full_page=True)
                await accessible(tab, f"{name}-16-calendars", shots)
                assert outside == [], outside
                await context.close()
    _keep(shots, "16")
