"""The engineer roster page in a real headless Chromium at 1366×768 and on a 390×844 phone: the
roster with one engineer on leave and one deactivated, a row's edit form opened, a refused addition
shown again with what was typed; nothing fetched from outside the console, nothing wider than the
window, no serious or critical axe finding. Screenshots ro1–ro2 (test-artifacts/console/ and
/tmp/console-screens/)."""

from __future__ import annotations

from a11y import accessible
from console_support import open_desk
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving
from tickets_helpers import SUP

from aftersales_testing.browser import PHONE


async def test_the_roster_page_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk:
        api = desk.tickets
        zhao = {"id": "eng-zhao", "name": "赵工", "region": "华北·天津", "phone": "13800000009"}
        r = await api.post(
            "/engineers", json=zhao | {"skills": ["XK-200", "液压系统"]}, headers=SUP
        )
        assert r.status_code == 201, r.text
        leave = {"on_leave": True, "until": "2026-12-04"}
        assert (await api.post("/engineers/eng-wang/leave", json=leave, headers=SUP)).is_success
        gone = await api.patch("/engineers/eng-li", json={"active": False}, headers=SUP)
        assert gone.is_success
        async with serving(desk.console_app) as base, chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "sup-zhang", "/admin/engineers")
                await page.wait_for_load_state()
                assert await page.title() == "工程师名单 · Aftersales", await page.content()
                table = await page.locator("table.roster").inner_text()
                assert "休假至 2026-12-04" in table and "停用" in table and "可派工" in table
                await page.click("#engineer-eng-zhao details.action summary")
                await _fits(page, size["width"])
                await page.screenshot(path=str(shots / f"{name}-ro1-roster.png"), full_page=True)
                await accessible(page, f"{name}-ro1-roster", shots)

                await page.click("#add-engineer summary")
                await page.fill("#add-engineer input[name=id]", f"eng-new-{name}")
                await page.fill("#add-engineer input[name=name]", "钱工")
                await page.fill("#add-engineer input[name=phone]", "0571-88888888")
                async with page.expect_navigation():
                    await page.click("#add-engineer button[type=submit]")
                said = await page.locator(".flash").inner_text()
                assert "不是有效的中国大陆手机号" in said, said
                assert await page.input_value("#add-engineer input[name=name]") == "钱工"
                await _fits(page, size["width"])
                await page.screenshot(path=str(shots / f"{name}-ro2-refused.png"), full_page=True)
                await accessible(page, f"{name}-ro2-refused", shots)
                assert outside == [], outside
                await context.close()
    _keep(shots, "ro")
