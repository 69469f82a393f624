"""The report in HTML, CSV, XLSX and PDF: the same figures, Chinese text, charts; the PDF's pages
are turned into images (kept under /tmp/reports-pdf-pages) and the workbook is read back with
openpyxl."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_monthly_report import MANAGER, seed_october

PAGES = Path("/tmp/reports-pdf-pages")


async def test_html_has_the_figures_and_inline_svg_charts_only(make_kit):
    kit = await make_kit()
    await seed_october(kit)
    async with kit.client() as client:
        r = await client.get("/reports/monthly/2026-10/html", headers=MANAGER)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "售后服务月度分析报告 2026-10" in html and "故障率 · 按批次" in html
    assert html.count("<svg") >= 4 and "异常 abnormal" in html
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3', "")


async def test_csv_lists_every_section_with_safe_cells(make_kit):
    kit = await make_kit()
    await seed_october(kit)
    async with kit.client() as client:
        r = await client.get("/reports/monthly/2026-10/csv", headers=MANAGER)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    text = r.text.lstrip("\ufeff")
    assert "XK-200,B3,100,12,120.0," in text and "异常 abnormal" in text
    assert "SLA 达标率" in text


async def test_the_workbook_has_a_sheet_per_section_numbers_and_native_charts(make_kit):
    kit = await make_kit()
    await seed_october(kit)
    async with kit.client() as client:
        r = await client.get("/reports/monthly/2026-10/xlsx", headers=MANAGER)
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert {"概要", "volume", "failures_by_batch", "sla", "satisfaction"} <= set(book.sheetnames)
    batches = book["failures_by_batch"]
    row = next(r for r in batches.iter_rows(min_row=3, values_only=True) if r[1] == "B3")
    assert row[2:5] == (100, 12, 120.0)  # numbers, not text
    assert all(isinstance(v, int | float) for v in row[2:6])
    sla = book["sla"]
    compliance = next(r for r in sla.iter_rows(min_row=3) if r[0].value == "解决")[4]
    assert compliance.value == 0.75 and compliance.number_format == "0.0%"
    assert len(batches._charts) == 1 and len(book["volume"]._charts) == 1


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None and not os.environ.get("CI"),
    reason="needs poppler-utils (pdftoppm); CI installs it (.ci/run) and never skips",
)
async def test_the_pdf_is_a4_with_the_chinese_font_embedded_and_pages_as_images(make_kit):
    kit = await make_kit()
    await seed_october(kit)
    async with kit.client() as client:
        r = await client.get("/reports/monthly/2026-10/pdf", headers=MANAGER)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    PAGES.mkdir(exist_ok=True)
    pdf = PAGES / "report-2026-10.pdf"
    pdf.write_bytes(r.content)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "WenQuanYiMicroHei" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk)  # embedded (subset)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "售后服务月度分析报告 2026-10" in text and "故障原因帕累托" in text
    for old in PAGES.glob("page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(PAGES / "page")], check=True)
    pages = sorted(PAGES.glob("page-*.png"))
    assert pages and all(p.stat().st_size > 5000 for p in pages)


async def test_without_the_chinese_font_the_pdf_is_a_503_naming_the_package(make_kit, monkeypatch):
    from reports import render

    monkeypatch.setattr(render, "FONT_PATHS", (Path("/nonexistent/wqy.ttc"),))
    kit = await make_kit()
    async with kit.client() as client:
        r = await client.get("/reports/monthly/2026-10/pdf", headers=MANAGER)
    assert r.status_code == 503 and "fonts-wqy-microhei" in r.text
