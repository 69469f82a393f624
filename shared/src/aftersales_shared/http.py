"""Typed HTTP parameters every service's API uses (Litestar's explicit parameter style)."""

from typing import Annotated, TypeVar

from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

T = TypeVar("T")

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (1–500)")]
MAX_OFFSET = 10_000_000
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description=f"rows to skip (0–{MAX_OFFSET:,})")]
# an integer id in a path: a larger one is a 400, not a database error; 2^53−1 is exact in every JSON reader
MAX_ROW_ID = 2**53 - 1
RowId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID, description=f"row id (1 to {MAX_ROW_ID})")]
# a calendar year in a path
Year = Annotated[int, PathParameter(ge=1900, le=2200, description="calendar year (1900–2200)")]

__all__ = ["FromPath", "FromQuery", "JSONBody", "Limit", "Offset", "PathParameter", "QueryParameter", "RowId", "Year"]
