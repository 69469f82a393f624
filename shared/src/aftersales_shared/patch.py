"""Partial updates (PATCH) for every service: a field left out keeps its value; a field sent as null
clears it only where clearing is allowed. Anything else sent as null is a 400 naming the field —
never a NOT NULL violation in the database (a 500) or a half-written record."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, model_validator


class NoNullsUnlessClearable(BaseModel):
    """Mix into a PATCH schema; list the fields that may be cleared with null in ``clearable``."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _refuse_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            bad = sorted(
                k
                for k, v in data.items()
                if v is None and k in cls.model_fields and k not in cls.clearable
            )
            if bad:
                raise ValueError(
                    f"{', '.join(bad)}: null is not allowed here (leave the field out to keep "
                    "its value); "
                    "该字段不能为空"
                )
        return data
