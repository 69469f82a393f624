"""One reader and one writer of Excel workbooks for every import and export (parts' master and
stock, tickets' engineer roster): an upload that is not an .xlsx is a 4xx with a message, a header
row is found by its Chinese or English column names, a cell becomes trimmed text, an exported cell
is made safe (``exports.safe_cell``)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook, load_workbook

from .errors import DomainError
from .exports import safe_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def open_workbook(content: bytes) -> Any:
    """The uploaded workbook (read-only, values not formulas); DomainError when it is none."""
    if not content:
        raise DomainError("请上传 .xlsx 文件 (upload an .xlsx file as the request body)")
    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DomainError(
            "无法读取上传的文件：须为 Excel .xlsx 格式 (not a readable .xlsx workbook)"
        ) from exc


def header_index(cells: Iterable[Any], columns: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Column key → its position in the header row, by any of its names (case-insensitive)."""
    names = [str(c).strip().lower() if c is not None else "" for c in cells]
    found = {}
    for key, aliases in columns.items():
        for alias in aliases:
            if alias.lower() in names:
                found[key] = names.index(alias.lower())
                break
    return found


def cell_text(value: Any) -> str:
    """A cell as trimmed text: empty for none, 13800000001 rather than 13800000001.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def workbook_bytes(title: str, header: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """One sheet: the header, then the rows with every text cell made safe."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append([safe_cell(v) if isinstance(v, str) else v for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
