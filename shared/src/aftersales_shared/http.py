"""Typed HTTP parameters every service's API uses (Litestar's explicit parameter style)."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

T = TypeVar("T")

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (1–500)")]
MAX_OFFSET = 10_000_000
Offset = Annotated[
    int, QueryParameter(ge=0, le=MAX_OFFSET, description=f"rows to skip (0–{MAX_OFFSET:,})")
]
# an integer id in a path: a larger one is a 400, not a database error; 2^53−1 is exact in every
# JSON reader
MAX_ROW_ID = 2**53 - 1
RowId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description=f"row id (1 to {MAX_ROW_ID})")
]
# years a path or a time filter may name (a calendar table, a report period)
YEARS = (1900, 2200)
Year = Annotated[
    int,
    PathParameter(ge=YEARS[0], le=YEARS[1], description=f"calendar year ({YEARS[0]}–{YEARS[1]})"),
]


class FilterTime(datetime):
    """A time in a query filter: ISO 8601 text with its UTC offset, years 1900–2200 (a naive time, a
    number such as 0.5 or year 1 is a 400 naming the problem, never a 500 from the database)."""


def _is_filter_time(t: Any) -> bool:
    return t is FilterTime


def _decode_filter_time(t: Any, value: Any) -> FilterTime:
    if not isinstance(value, str):
        raise ValueError("give an ISO 8601 time with offset, e.g. 2026-11-29T20:57:00+08:00")
    try:
        parsed = FilterTime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO 8601 time (e.g. 2026-11-29T20:57:00+08:00); 时间格式错误"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset (add +08:00 or Z); 请带时区")
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise ValueError(f"year {parsed.year} is outside {YEARS[0]}–{YEARS[1]}; 年份超出范围")
    return parsed


# every service's app registers these (aftersales_shared.service.create_service_app)
TYPE_DECODERS = [(_is_filter_time, _decode_filter_time)]
_TIME_SCHEMA = {"type": "string", "format": "date-time"}
Since = Annotated[
    FilterTime | None,
    QueryParameter(
        description="from (inclusive): ISO 8601 with offset, years 1900–2200",
        schema_extra=_TIME_SCHEMA,
    ),
]
Until = Annotated[
    FilterTime | None,
    QueryParameter(
        description="to (exclusive): ISO 8601 with offset, years 1900–2200",
        schema_extra=_TIME_SCHEMA,
    ),
]
At = Annotated[
    FilterTime | None,
    QueryParameter(
        description="at this moment: ISO 8601 with offset, years 1900–2200 (default: now)",
        schema_extra=_TIME_SCHEMA,
    ),
]

__all__ = [
    "At",
    "FilterTime",
    "FromPath",
    "FromQuery",
    "JSONBody",
    "Limit",
    "Offset",
    "PathParameter",
    "QueryParameter",
    "RowId",
    "Since",
    "Until",
    "Year",
]


async def bounded_body(
    request: Any, max_bytes: int, too_large: Callable[[int], Exception]
) -> bytes:
    """A request body (an upload) refused as soon as it is declared or read beyond `max_bytes`
    with the route's own message (`too_large(max_bytes)`, a 413 DomainError in Chinese) — set
    `request_max_body_size=None` on the route: Litestar's own limit answers a bare "Request Entity
    Too Large"."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)
