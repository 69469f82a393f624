"""The report in the formats people use: HTML (charts as inline SVG drawn here, no script, no CDN),
CSV, XLSX (a sheet per section, native Excel charts, numbers as numbers) and PDF (A4, the CJK font
embedded). Every format renders the same tables (tables.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from aftersales_shared.errors import DomainError
from aftersales_shared.exports import safe_cell

from .tables import Column, Table, tables

_ENV = Environment(
    loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"])
)
# the PDF's CJK font: Debian's fonts-wqy-microhei (installed by .ci/run and the image's Dockerfile)
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
)
BAR = "#3b6ea8"


def shown(value: Any, column: Column) -> str:
    if value is None or value == "":
        return "—"
    if column.kind == "percent":
        return f"{value * 100:.1f}%"
    if column.kind == "money":
        return f"{value:,.2f}"
    if column.kind == "number" and isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def chart_points(table: Table) -> list[tuple[str, float]]:
    if not table.chart:
        return []
    label, value = table.chart
    return [
        (str(row[label]), float(row[value]))
        for row in table.rows
        if isinstance(row[value], int | float) and not isinstance(row[value], bool)
    ][:15]


def svg_bars(points: list[tuple[str, float]], width: int = 640) -> Markup:
    """A horizontal bar chart as inline SVG (labels left, values right of each bar)."""
    if not points:
        return Markup("")
    row, label_w, value_w = 24, 200, 70
    top = max(v for _, v in points) or 1.0
    height = row * len(points) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart">'
    ]
    for i, (label, value) in enumerate(points):
        y = 4 + i * row
        bar = (width - label_w - value_w) * max(value, 0) / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="12">'
            f"{escape(label[:24])}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="{row - 8}" fill="{BAR}"/>'
            f'<text x="{label_w + bar + 4:.1f}" y="{y + 16}" font-size="12">{value:g}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def to_html(report: dict[str, Any]) -> str:
    sections = [
        {
            "table": t,
            "chart": svg_bars(chart_points(t)),
            "rows": [[shown(v, c) for v, c in zip(r, t.columns, strict=True)] for r in t.rows],
        }
        for t in tables(report)
    ]
    return _ENV.get_template("report.html").render(report=report, sections=sections)


def to_csv(report: dict[str, Any]) -> str:
    """Each section as a block: its title, its header, its rows, an empty line (UTF-8 with BOM)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([f"售后服务月度分析报告 {report['month']}", safe_cell(_filters(report))])
    for t in tables(report):
        writer.writerow([])
        writer.writerow([safe_cell(t.title)])
        writer.writerow([safe_cell(c.title) for c in t.columns])
        writer.writerows([safe_cell(v) for v in row] for row in t.rows)
    return "\ufeff" + buf.getvalue()


def _filters(report: dict[str, Any]) -> str:
    chosen = [f"{k}={v}" for k, v in report["filters"].items() if v]
    return "，".join(chosen) or "全公司 (whole company)"


NUMBER_FORMATS = {"int": "0", "number": "0.00", "percent": "0.0%", "money": "#,##0.00"}


def to_xlsx(report: dict[str, Any]) -> bytes:
    """A sheet per section; numbers are numbers (with a display format), each chartable section
    gets a native bar chart."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    book = Workbook()
    cover = book.active
    cover.title = "概要"
    cover.append([f"售后服务月度分析报告 {report['month']}"])
    cover.append(["范围 (scope)", _filters(report)])
    cover.append(["时区 (time zone)", report["timezone"]])
    cover.append(["生成时间 (generated)", report["generated_at"]])
    for key, text in report["definitions"].items():
        cover.append([key, text])
    cover["A1"].font = Font(bold=True, size=14)
    for t in tables(report):
        sheet = book.create_sheet(t.key[:31])
        sheet.append([t.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append([c.title for c in t.columns])
        for row in t.rows:
            sheet.append([safe_cell(v) if isinstance(v, str) else v for v in row])
        for j, column in enumerate(t.columns, start=1):
            sheet.column_dimensions[sheet.cell(2, j).column_letter].width = 18
            if column.kind in NUMBER_FORMATS:
                for i in range(3, 3 + len(t.rows)):
                    sheet.cell(i, j).number_format = NUMBER_FORMATS[column.kind]
        if t.note:
            sheet.cell(4 + len(t.rows), 1, t.note)
        if t.chart and t.rows:
            label, value = t.chart
            chart = BarChart()
            chart.type = "bar"
            chart.title = t.title
            chart.legend = None
            data = Reference(sheet, min_col=value + 1, min_row=2, max_row=2 + len(t.rows))
            cats = Reference(sheet, min_col=label + 1, min_row=3, max_row=2 + len(t.rows))
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(cats)
            chart.height, chart.width = 8, 16
            sheet.add_chart(chart, f"{chr(ord('A') + len(t.columns) + 1)}2")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class FontMissing(DomainError):
    """The machine lacks the font the PDF embeds: a 503 naming the package, never a 500."""

    status = 503
    code = "font_missing"


def font_path() -> Path:
    for path in FONT_PATHS:
        if path.exists():
            return path
    raise FontMissing(
        "没有中文字体：请安装 fonts-wqy-microhei (no CJK font: install Debian's fonts-wqy-microhei)"
    )


def to_pdf(report: dict[str, Any]) -> bytes:
    """A4 portrait; WenQuanYi Micro Hei embedded (subset); each chartable section with a bar
    chart drawn as PDF vectors."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as PdfTable

    path = font_path()  # checked on every call: a font removed later is a 503, not a broken PDF
    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", str(path), subfontIndex=0))
    title = ParagraphStyle("t", fontName="WQY", fontSize=16, leading=22, spaceAfter=6)
    head = ParagraphStyle("h", fontName="WQY", fontSize=11.5, leading=16, spaceBefore=8)
    body = ParagraphStyle("b", fontName="WQY", fontSize=8, leading=11)
    cell = ParagraphStyle("c", fontName="WQY", fontSize=7.5, leading=9.5)
    story: list[Any] = [
        Paragraph(f"售后服务月度分析报告 {report['month']}", title),
        Paragraph(
            f"范围：{escape(_filters(report))} · 时区 {report['timezone']} · "
            f"生成 {report['generated_at'][:19]}",
            body,
        ),
    ]
    width = A4[0] - 30 * mm
    for t in tables(report):
        story.append(Paragraph(escape(t.title), head))
        if t.note:
            story.append(Paragraph(escape(t.note), body))
        points = chart_points(t)
        if points:
            drawing = Drawing(width, 14 * len(points) + 20)
            chart = HorizontalBarChart()
            chart.x, chart.y = 110, 10
            chart.width, chart.height = width - 140, 14 * len(points)
            chart.data = [[v for _, v in reversed(points)]]
            chart.categoryAxis.categoryNames = [label[:18] for label, _ in reversed(points)]
            chart.categoryAxis.labels.fontName = "WQY"
            chart.categoryAxis.labels.fontSize = 7
            chart.valueAxis.labels.fontName = "WQY"
            chart.valueAxis.labels.fontSize = 7
            chart.valueAxis.valueMin = 0
            chart.bars[0].fillColor = colors.HexColor(BAR)
            drawing.add(chart)
            story.append(drawing)
        rows = [[Paragraph(escape(c.title), cell) for c in t.columns]]
        rows += [
            [Paragraph(escape(shown(v, c)), cell) for v, c in zip(r, t.columns, strict=True)]
            for r in t.rows
        ] or [[Paragraph("（无数据 no data）", cell)] + [""] * (len(t.columns) - 1)]
        grid = PdfTable(rows, colWidths=[width / len(t.columns)] * len(t.columns), repeatRows=1)
        grid.setStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
        story += [grid, Spacer(1, 4)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=f"售后服务月度分析报告 {report['month']}",
        initialFontName="WQY", initialFontSize=8,
    )  # fmt: skip
    doc.build(story)
    return out.getvalue()
