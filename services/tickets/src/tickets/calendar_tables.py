"""Calendar tables as text, pure: a year's holiday table (CSV or YAML) parsed and checked, business
hours validated, a table written back out. No database, no HTTP: the admin API and the CLI share
these."""

from __future__ import annotations

import csv
import io
from datetime import date, time
from typing import Any

import yaml

from aftersales_shared.errors import DomainError
from aftersales_shared.exports import csv_text
from aftersales_shared.workcalendar import (
    BusinessHours,
    CalendarDataError,
    DayEntry,
    DayKind,
    YearTable,
)

NATIONAL = "national"
DEFAULT_HOURS = [
    {"weekday": d, "start": s, "end": e}
    for d in range(5)
    for s, e in (("09:00", "12:00"), ("13:00", "18:00"))
]


class CalendarImportError(DomainError):
    code = "invalid_calendar_table"


def parse_table(content: bytes, fmt: str, year: int) -> YearTable:
    """CSV (`date,kind,name`) or YAML (list of {date, kind, name}) → a validated YearTable."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalendarImportError("文件不是UTF-8编码 (the file must be UTF-8)") from exc
    rows = _csv_rows(text) if fmt == "csv" else _yaml_rows(text)
    if not rows:
        raise CalendarImportError("文件中没有任何日期 (the file lists no dates)")
    for line, row in rows:
        if (
            not isinstance(row, dict)
            or set(row) - {"date", "kind", "name"}
            or "date" not in row
            or "kind" not in row
        ):
            raise CalendarImportError(
                f"line {line}: expected the fields date, kind, name", line=line
            )
        if str(row["kind"]).strip() not in {k.value for k in DayKind}:
            raise CalendarImportError(
                f"line {line}: unknown kind {row['kind']!r} (holiday or workday)", line=line
            )
    entries = [
        (_date(row["date"], line), str(row["kind"]).strip(), str(row.get("name") or "").strip())
        for line, row in rows
    ]
    try:
        table = YearTable.from_entries(year, entries)
    except CalendarDataError as exc:
        line = rows[exc.line_no - 1][0] if exc.line_no else None
        raise CalendarImportError(
            f"line {line}: {exc.message}" if line else exc.message, line=line
        ) from exc
    return table


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    rows, header = [], None
    for line_no, cells in enumerate(reader, start=1):
        if not cells or not "".join(cells).strip() or cells[0].lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in cells]
        if header is None and cells[0].lower() == "date":
            header = [c.lower() for c in cells]
            continue
        names = header or ["date", "kind", "name"]
        if len(cells) > len(names):
            raise CalendarImportError(
                f"line {line_no}: too many columns ({len(cells)})", line=line_no
            )
        rows.append((line_no, dict(zip(names, cells))))
    return rows


def _yaml_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        nodes = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise CalendarImportError(f"YAML无法解析 (not valid YAML): {exc}") from exc
    if nodes is None:
        return []
    if not isinstance(nodes, yaml.SequenceNode):
        raise CalendarImportError("YAML must be a list of {date, kind, name}")
    data = yaml.safe_load(text)
    return [(node.start_mark.line + 1, item) for node, item in zip(nodes.value, data)]


def _date(value: Any, line: int) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarImportError(
            f"line {line}: {value!r} is not a date (YYYY-MM-DD)", line=line
        ) from None


def validate_hours(hours: list[dict[str, Any]], label: str = "hours") -> list[dict[str, Any]]:
    """Business hours as [{weekday, start, end}]: checked for order and overlap per weekday."""
    weekly: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
    for i, item in enumerate(hours, start=1):
        try:
            weekly[int(item["weekday"])].append(
                (time.fromisoformat(item["start"]), time.fromisoformat(item["end"]))
            )
        except (KeyError, ValueError, TypeError):
            raise CalendarImportError(
                f"{label}[{i}]: needs weekday 0–6 and start/end as HH:MM"
            ) from None
    try:
        BusinessHours(weekly={d: sorted(v) for d, v in weekly.items()})
    except CalendarDataError as exc:
        raise CalendarImportError(f"{label}: {exc.message}") from exc
    return hours


def export_table(entries: list[DayEntry], fmt: str) -> str:
    if fmt == "yaml":
        return yaml.safe_dump(
            [{"date": e.date.isoformat(), "kind": e.kind.value, "name": e.name} for e in entries],
            allow_unicode=True,
            sort_keys=False,
        )
    return csv_text(
        ["date", "kind", "name"],
        ([e.date.isoformat(), e.kind.value, e.name] for e in entries),
        bom=False,
        lineterminator="\n",
    )
