"""The monthly report page against the real reports service (its own database, October 2026 in
its read model): the key figures and sections, each figure linked to the tickets behind it (as
many as the figure says), each of those linking to the ticket page; the files handed on with the
user's token; the scope filters; who may see it; bad input as a 4xx page a person can act on."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from a11y import accessible
from console_support import sign_in
from report_support import MONTH, open_reports
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE


def links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/reports/[^"]+/tickets\?[^"]+)"', page)]


def ticket_links(page: str) -> set[str]:
    return set(re.findall(r'<a class="no" href="/tickets/([^"]+)">', page))


async def test_the_supervisor_reads_the_month_and_drills_down(databases, streams_ready):
    async with open_reports(databases, streams_ready) as reports, reports.console() as browser:
        await sign_in(browser, "sup-zhang")
        start = await browser.get("/reports")
        assert start.status_code == 302 and re.fullmatch(
            r"/reports/\d{4}-\d{2}", start.headers["location"]
        )
        assert (await browser.get(f"/reports?month={MONTH}")).headers["location"] == (
            f"/reports/{MONTH}"
        )
        page = await browser.get(f"/reports/{MONTH}")
        assert page.status_code == 200, page.text
        text = page.text
        assert "售后服务月度报告" in text and "工单总数" in text and "故障率" in text
        assert 'href="/reports">月报</a>' in text  # in the navigation for a supervisor
        assert "75.0%（超时 4）" in text  # resolution SLA: 4 of 16 breached
        assert "14（每千台 46.67）" in text
        found = {unquote(link.split("figure=")[1].split("&")[0]) for link in links(text)}
        assert {"volume", "failures", "sla_breached:resolution", "batch:XK-200|B3"} <= found
        assert "2026-09" in text and "2026-11" in text  # the months before and after

        # the figures' tickets: as many as each figure says, each a link to its ticket page
        volume = await browser.get(f"/reports/{MONTH}/tickets", params={"figure": "volume"})
        assert volume.status_code == 200, volume.text
        assert ticket_links(volume.text) == set(reports.tickets)
        assert "共 16 张" in volume.text and "质量问题" in volume.text
        late = await browser.get(
            f"/reports/{MONTH}/tickets", params={"figure": "sla_breached:resolution"}
        )
        assert ticket_links(late.text) == set(reports.late)
        batch = await browser.get(f"/reports/{MONTH}/tickets", params={"figure": "batch:XK-200|B3"})
        assert len(ticket_links(batch.text)) == 12

        # the scope: one dealer's tickets only (the two questions have none)
        scoped = await browser.get(f"/reports/{MONTH}", params={"dealer_id": "D-ZJ-01"})
        assert scoped.status_code == 200
        assert "dealer_id=D-ZJ-01" in html.unescape(scoped.text)
        scoped_volume = await browser.get(
            f"/reports/{MONTH}/tickets", params={"figure": "volume", "dealer_id": "D-ZJ-01"}
        )
        assert len(ticket_links(scoped_volume.text)) == 14

        # the files, with the user's token, as the reports service names them
        pdf = await browser.get(f"/reports/{MONTH}/download/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        assert "attachment" in pdf.headers["content-disposition"]
        xlsx = await browser.get(f"/reports/{MONTH}/download/xlsx")
        assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
        csv = await browser.get(f"/reports/{MONTH}/download/csv")
        assert csv.status_code == 200 and "XK-200" in csv.text
        assert csv.headers["content-type"].startswith("text/csv")

        # bad input: a page saying what to fix, never a 500
        for url, status, words in (
            ("/reports/2026-13", 400, "月份格式应为 YYYY-MM"),
            ("/reports?month=10-2026", 400, "月份格式应为 YYYY-MM"),
            (f"/reports/{MONTH}/download/docx", 404, "没有这种格式"),
            (f"/reports/{MONTH}/tickets", 400, "请从报告中的数字进入工单列表"),
            (f"/reports/{MONTH}/tickets?figure=nope", 422, "没有这个指标"),  # the API's words
            (f"/reports/{MONTH}/tickets?figure=volume&page=0", 400, "页码"),
            (f"/reports/{MONTH}?dealer_id=%3Cscript%3E", 400, "筛选条件"),
        ):
            r = await browser.get(url)
            assert (r.status_code, words in r.text) == (status, True), (url, r.status_code)


async def test_only_managers_supervisors_and_admins_see_the_report(databases, streams_ready):
    async with open_reports(databases, streams_ready) as reports:
        for sub, status in (
            ("mgr-wang", 200),
            ("admin", 200),
            ("eng-zhang", 403),
            ("agent-zhou", 403),
            ("dealer-chen", 403),
        ):
            async with reports.console() as browser:
                await sign_in(browser, sub)
                for url in (
                    f"/reports/{MONTH}",
                    f"/reports/{MONTH}/tickets?figure=volume",
                    f"/reports/{MONTH}/download/csv",
                ):
                    r = await browser.get(url)
                    assert r.status_code == status, (sub, url, r.status_code)
                if status == 403:
                    assert "月度报告仅供管理层和客服主管查看" in r.text
                    assert 'href="/reports"' not in r.text  # not in their navigation
        async with reports.console() as anonymous:
            r = await anonymous.get(f"/reports/{MONTH}")
            assert r.status_code == 302 and r.headers["location"].startswith("/login")


async def test_the_report_page_on_a_laptop_and_a_phone(databases, streams_ready, artifacts_dir):
    """王总 (manager) opens the month by the navigation's 月报 and the month picker, clicks the
    resolution SLA figure and lands on the late tickets; the figure's list links to a ticket page.
    Screenshots 13–14, the axe scan, nothing from outside, nothing wider than the window."""
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_reports(databases, streams_ready) as reports:
        async with serving(reports.console_app) as base, chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "mgr-wang", "/board")
                async with page.expect_navigation():
                    await page.click("nav.links >> text=月报")
                await page.fill("input[name=month]", MONTH)
                async with page.expect_navigation():
                    await page.click(".month-pick button")
                assert page.url == f"{base}/reports/{MONTH}"
                kpis = await page.locator("dl.kpis").inner_text()
                assert "75.0%（超时 4）" in kpis and "16" in kpis
                await _fits(page, size["width"])
                await page.screenshot(path=str(shots / f"{name}-13-report.png"), full_page=True)
                await accessible(page, f"{name}-13-report", shots)

                async with page.expect_navigation():
                    await page.click("dl.kpis >> text=75.0%（超时 4）")
                assert "figure=sla_breached%3Aresolution" in page.url
                rows = page.locator("table.tickets tr.row")
                assert await rows.count() == len(reports.late)
                listed = await page.locator("table.tickets").inner_text()
                assert all(no in listed for no in reports.late)
                await _fits(page, size["width"])
                await page.screenshot(
                    path=str(shots / f"{name}-14-report-tickets.png"), full_page=True
                )
                await accessible(page, f"{name}-14-report-tickets", shots)
                first = await page.locator("table.tickets a.no").first.get_attribute("href")
                assert first in {f"/tickets/{no}" for no in reports.late}
                assert outside == [], f"fetched from outside the console: {outside}"
                await context.close()
    _keep(shots, "13")
    _keep(shots, "14")
