"""One CSV writer and one Content-Disposition for every export of every service.

- A cell that a spreadsheet would run as a formula (``=HYPERLINK(…)``, ``+``, ``-``, ``@``, a tab or
  CR first, also their full-width forms) is written with a leading apostrophe (OWASP "CSV
  injection").
- Control characters a worksheet cannot hold (ESC, BEL, …) are dropped from cells.
- ``Content-Disposition`` is built per RFC 6266 / RFC 5987: an ASCII fallback ``filename`` that
  cannot break out of its quotes, and ``filename*`` with the UTF-8 name percent-encoded.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from litestar import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")
# control characters a worksheet cannot hold (openpyxl raises IllegalCharacterError on them: an
# ESC pasted into a name would make the whole export a 500); tab, LF and CR are kept
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value: Any) -> Any:
    """None → empty; text a spreadsheet would evaluate → quoted with a leading apostrophe;
    control characters other than tab, LF and CR dropped."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = _CONTROL.sub("", value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(
    header: Iterable[Any],
    rows: Iterable[Iterable[Any]],
    *,
    bom: bool = True,
    lineterminator: str = "\r\n",
) -> str:
    """CSV with every cell made safe; a UTF-8 BOM by default so Excel shows Chinese headers."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return ("\ufeff" if bom else "") + buf.getvalue()


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266: `attachment; filename="ascii"; filename*=UTF-8''percent-encoded`."""
    fallback = _UNSAFE_ASCII.sub("_", filename).strip("._") or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_response(
    filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]], **headers: str
) -> Response[str]:
    return Response(
        csv_text(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(filename), **headers},
    )
