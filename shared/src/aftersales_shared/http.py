"""Typed HTTP parameters every service's API uses (Litestar's explicit parameter style)."""

from typing import Annotated, TypeVar

from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

T = TypeVar("T")

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (1–500)")]
Offset = Annotated[int, QueryParameter(ge=0, description="rows to skip")]

__all__ = ["FromPath", "FromQuery", "JSONBody", "Limit", "Offset", "QueryParameter"]
