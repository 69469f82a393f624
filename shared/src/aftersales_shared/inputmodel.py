"""The base of every request body in every service: unknown fields refused, text trimmed, and no
silent coercion, no NUL character in any text (PostgreSQL cannot store one: it would be a 500).

Pydantic's lax mode would take `0` as 1970-01-01 for a date, `0` as false for a flag, `"5"` as 5 — a
careless client (or a fuzzer) would then write records nobody meant. Here a date, time or timestamp
must be given as text (ISO 8601), a flag as true/false, a number as a number; anything else is a 400
naming the field. Values built in code (a `date` object) pass as before.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import types as pydantic_types

_TEMPORAL = (dt.date, dt.datetime, dt.time)
# pydantic's own date/time types (classes that are not datetime subclasses at run time)
_TEMPORAL_MARKERS = tuple(
    getattr(pydantic_types, n)
    for n in (
        "AwareDatetime",
        "NaiveDatetime",
        "PastDate",
        "FutureDate",
        "PastDatetime",
        "FutureDatetime",
    )
    if hasattr(pydantic_types, n)
)


def _kinds(annotation: Any) -> set[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: set[str] = set()
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                out |= _kinds(arg)
        return out
    if annotation is bool:
        return {"bool"}
    if isinstance(annotation, type) and (
        issubclass(annotation, _TEMPORAL) or annotation in _TEMPORAL_MARKERS
    ):
        return {"temporal"}
    if annotation in (int, float):
        return {"number"}
    return {"other"}


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    strict_fields: ClassVar[dict[str, str]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        strict: dict[str, str] = {}
        for name, field in cls.model_fields.items():
            kinds = _kinds(field.annotation)
            if len(kinds) == 1 and kinds != {"other"}:
                strict[field.alias or name] = next(iter(kinds))
        cls.strict_fields = strict

    @model_validator(mode="before")
    @classmethod
    def _no_coercion(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        bad: list[str] = []
        for key, kind in cls.strict_fields.items():
            if key not in data or data[key] is None:
                continue
            value = data[key]
            if kind == "temporal" and isinstance(value, (int, float, bool)):
                bad.append(
                    f"{key}: give a date or time as text (ISO 8601), not a number; 日期时间须为文本"
                )
            elif kind == "bool" and not isinstance(value, bool):
                bad.append(f"{key}: give true or false; 须为 true 或 false")
            elif kind == "number" and (isinstance(value, (str, bool))):
                bad.append(f"{key}: give a number, not text; 须为数字")
        bad += [
            f"{where}: text contains a NUL character (\\u0000); 文本中含有空字符"
            for where in _nul_paths(data, "")
        ]
        if bad:
            raise ValueError("; ".join(bad))
        return data


def _nul_paths(value: Any, where: str) -> list[str]:
    """Where in a request body a string holds NUL (keys included), e.g. `contact.name`,
    `items[2]`."""
    if isinstance(value, str):
        return [where or "(body)"] if "\x00" in value else []
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            path = f"{where}.{k}" if where else str(k)
            out += ([path] if isinstance(k, str) and "\x00" in k else []) + _nul_paths(v, path)
        return out
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{where}[{i}]")]
    return []
