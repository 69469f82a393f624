"""The fault-analysis pages in a real headless Chromium at 1366×768 and on a 390×844 phone: 吴工's
待分析 list with its deadlines, a ticket's analysis refused by the tickets API (its words, what
was typed kept), then saved; the catalogue with an entry's edit form open and a deactivated entry
greyed; the audit trail. Nothing fetched from outside the console, nothing wider than the window,
no serious or critical axe finding. Screenshots qa1–qa5 (test-artifacts/console/ and
/tmp/console-screens/)."""

from __future__ import annotations

import httpx
from quality_support import TECH, completed, open_lab
from test_live import WAIT, _feed_connected
from test_pages_browser import LAPTOP, _shot, _submit
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE


async def test_fault_analysis_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_lab(*desk_parts) as lab:
        api, no = lab.desk.tickets, lab.no
        r = await api.patch("/fault-catalogue/parts/SEAL", json={"active": False}, headers=TECH)
        assert r.status_code == 200, r.text
        # one ticket without its symptom for each window: its analysis is refused, then saved
        blanks = [no["blank"], await completed(api, {"needs_analysis": True}, product_model="XK-2")]
        async with serving(lab.desk.console_app) as base, chromium() as browser:
            async with httpx.AsyncClient(base_url=base, timeout=WAIT) as probe:
                await _feed_connected(probe)
            for size, name, blank in ((LAPTOP, "laptop", blanks[0]), (PHONE, "phone", blanks[1])):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "tech-wu", "/quality/faults")
                assert await page.title() == "故障分析 · Aftersales"
                listed = await page.locator("table.faults").inner_text()
                assert "漏油/渗漏" in listed and "剩余工作时间" in listed and "已逾期" in listed
                await _shot(page, size, name, "qa1-queue", shots)
                if size is LAPTOP:  # analysed elsewhere: FaultClassified, the list follows
                    await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
                    loaded_at = await page.evaluate("window.performance.timeOrigin")
                    finding = {"cause_category": "wear"}
                    r = await api.post(
                        f"/tickets/{no['todo']}/fault-analysis", json=finding, headers=TECH
                    )
                    assert r.status_code == 200, r.text
                    gone = page.locator(f"#fault-{no['todo']}")
                    await gone.wait_for(state="detached", timeout=WAIT * 1000)
                    assert await page.evaluate("window.performance.timeOrigin") == loaded_at
                    assert "列表已更新" in await page.locator("#live-status").inner_text()

                await page.click(f"#fault-{blank} a.analyse")
                await page.wait_for_load_state()
                await page.select_option("select[name=cause_category]", "design")
                await page.fill("textarea[name=cause_detail]", f"主轴设计余量不足 {name}")
                await _submit(page, "form.analysis-form")
                said = await page.locator("form.analysis-form .flash").inner_text()
                assert "缺少故障现象" in said, said
                typed = await page.input_value("textarea[name=cause_detail]")
                assert typed == f"主轴设计余量不足 {name}"
                await _shot(page, size, name, "qa2-refused", shots)
                await page.select_option("select[name=symptom]", lab.symptom)
                await _submit(page, "form.analysis-form")
                assert "已保存工单" in await page.locator(".flash").inner_text()
                await _shot(page, size, name, "qa3-saved", shots)

                await page.goto(f"{base}/quality/catalogue?kind=parts")
                greyed = page.locator("#entry-SEAL")
                assert "已停用" in await greyed.inner_text()
                await page.click(f"#entry-{lab.part} details.action summary")
                await _shot(page, size, name, "qa4-catalogue", shots)

                await page.goto(f"{base}/quality/audit")
                assert "停用" in await page.locator("table.audit").inner_text()
                await _shot(page, size, name, "qa5-audit", shots)
                assert outside == [], outside
                await context.close()
                r = await api.get(f"/tickets/{blank}/fault", headers=TECH)
                assert r.json()["needs_analysis"] is False
    _keep(shots, "qa")
