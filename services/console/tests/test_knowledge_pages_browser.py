"""The knowledge base's pages in a real headless Chromium over real HTTP, at 1366×768 and on a
390×844 phone: 张工 follows 写入知识库 from his completed ticket, creates the draft and submits it;
吴工 finds it in 待审核, is refused a return without a reason (the page says so), returns it with
one; 张工 edits it (the changes shown against the revision before) and submits again; 吴工 approves
it; search finds it and the published article opens. Nothing fetched from outside the console,
nothing wider than the window, no serious or critical axe finding. Screenshots kb1–kb8
(test-artifacts/console/ and /tmp/console-screens/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from a11y import accessible
from console_support import open_desk
from test_knowledge import completed_ticket
from test_knowledge_pages import WORK
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE


async def _shot(page: Any, width: int, name: str, step: str, shots: Path) -> None:
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-{step}.png"), full_page=True)
    await accessible(page, f"{name}-{step}", shots)


async def _submit(page: Any, form: str) -> None:
    async with page.expect_navigation():
        await page.click(f"{form} button[type=submit]")


async def _as(browser: Any, base: str, size: dict, sub: str, start: str, outside: list) -> Any:
    """A signed-in person's own browser context; what it fetched from elsewhere in `outside`."""
    context, page = await _page(browser, base, size, outside)
    await _sign_in(page, base, sub, start)
    return context, page


async def _walk(browser: Any, base: str, size: dict, name: str, no: str, shots: Path) -> None:
    width, outside = size["width"], []
    zc, zhang = await _as(browser, base, size, "eng-zhang", f"/tickets/{no}", outside)
    async with zhang.expect_navigation():
        await zhang.click("#knowledge-link a")
    assert await zhang.title() == f"写入知识库 {no} · Aftersales"
    await zhang.select_option("#kb-new select[name=cause_category]", "installation")
    await zhang.fill("#kb-new textarea[name=cause]", "显示屏排线插头未插紧，设备振动后接触不良")
    await _shot(zhang, width, name, "kb1-new", shots)
    await _submit(zhang, "#kb-new")
    assert await zhang.locator("#kb-status").inner_text() == "草稿"
    await _shot(zhang, width, name, "kb2-draft", shots)
    await _submit(zhang, "#kb-submit")
    assert await zhang.locator("#kb-status").inner_text() == "待审核"
    article = zhang.url.split("#")[0].rsplit("/", 1)[1]

    wc, wu = await _as(browser, base, size, "tech-wu", "/knowledge", outside)
    row = wu.locator(f"#article-{article}")
    assert "张工 (eng-zhang)" in await row.inner_text()
    await _shot(wu, width, name, "kb3-queue", shots)
    async with wu.expect_navigation():
        await row.locator("a").first.click()
    await _submit(wu, "#kb-return")  # no reason given
    assert "请填写退回原因" in await wu.locator("#kb-return #refused").inner_text()
    assert await wu.evaluate("window.scrollY") > 0  # the page opens at the refusal, not the top
    await _shot(wu, width, name, "kb4-refused", shots)
    await wu.fill("#kb-return textarea[name=comment]", "请写明排线型号和扎带固定的位置")
    await _submit(wu, "#kb-return")
    assert "已退回作者修改" in await wu.locator(".flash").inner_text()

    await zhang.reload()
    assert await zhang.locator("#kb-status").inner_text() == "已退回"
    await zhang.click("#kb-edit summary")
    await zhang.fill("#kb-edit textarea[name=cause]", "显示屏排线 FPC-40 插头未插紧")
    steps = await zhang.input_value("#kb-edit textarea[name=steps]")
    await zhang.fill("#kb-edit textarea[name=steps]", steps + "\n扎带固定在排线支架上")
    await _submit(zhang, "#kb-edit form")
    diff = await zhang.locator("#kb-diff").inner_text()
    assert "FPC-40" in diff and "扎带固定在排线支架上" in diff, diff
    await _shot(zhang, width, name, "kb5-diff", shots)
    await _submit(zhang, "#kb-submit")

    await wu.goto(f"{base}/knowledge/articles/{article}")
    await _submit(wu, "#kb-approve")
    await wu.goto(f"{base}/knowledge?tab=search&q=排线插头")
    hits = await wu.locator("ul.suggestions").inner_text()
    assert "操作面板" in hits, hits
    await wu.click("ul.suggestions details summary")
    await _shot(wu, width, name, "kb6-search", shots)
    await zhang.goto(f"{base}/knowledge/published/{article}")
    assert "FPC-40" in await zhang.locator(".kb-content").inner_text()
    await _shot(zhang, width, name, "kb7-published", shots)
    await zhang.goto(f"{base}/knowledge/articles/{article}")
    await _shot(zhang, width, name, "kb8-history", shots)
    assert outside == [], outside
    await zc.close()
    await wc.close()


@pytest.mark.long(50)
async def test_the_knowledge_pages_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk:
        done = {
            size: await completed_ticket(desk.tickets, "操作面板偶发黑屏", work=WORK)
            for size in ("laptop", "phone")
        }
        async with serving(desk.console_app) as base, chromium() as browser:
            await _walk(browser, base, LAPTOP, "laptop", done["laptop"], shots)
            await _walk(browser, base, PHONE, "phone", done["phone"], shots)
    _keep(shots, "kb")
