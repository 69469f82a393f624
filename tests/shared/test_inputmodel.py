"""No silent coercion in request bodies (aftersales_shared.inputmodel): a number is not a date, 0 is
not false, "5" is not 5 — each a 400 naming the field, in every service (their request models all
derive from StrictIn)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import pkgutil

import pytest
from pydantic import AwareDatetime, ValidationError

from aftersales_shared.inputmodel import StrictIn
from aftersales_tools.apicompat import committed_path
from aftersales_tools.catalog import SERVICES


class Sample(StrictIn):
    day: dt.date | None = None
    at: AwareDatetime | None = None
    flag: bool = False
    count: int = 0
    note: str = ""


@pytest.mark.parametrize(
    "body, field",
    [
        ({"day": 0}, "day"),
        ({"at": 1.5}, "at"),
        ({"flag": 0}, "flag"),
        ({"flag": "true"}, "flag"),
        ({"count": "5"}, "count"),
        ({"count": True}, "count"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_with_the_field(body, field):
    with pytest.raises(ValidationError) as refused:
        Sample.model_validate(body)
    assert field in str(refused.value)


def test_the_right_kinds_and_values_built_in_code_pass():
    s = Sample.model_validate(
        {
            "day": "2026-11-29",
            "at": "2026-11-29T20:57:00+08:00",
            "flag": True,
            "count": 3,
            "note": "  三包  ",
        }
    )
    assert s.day == dt.date(2026, 11, 29) and s.flag is True and s.count == 3 and s.note == "三包"
    assert Sample(day=dt.date(2026, 1, 1)).day == dt.date(2026, 1, 1)


@pytest.mark.parametrize("name", [s.name for s in SERVICES])
def test_every_service_s_request_bodies_are_strict(name):
    schemas = importlib.import_module(f"{name}.schemas")
    modules = [schemas]
    if hasattr(schemas, "__path__"):  # a package: every module of it
        modules += [
            importlib.import_module(f"{schemas.__name__}.{m.name}")
            for m in pkgutil.iter_modules(schemas.__path__)
        ]
    bodies = [
        v
        for module in modules
        for v in vars(module).values()
        if isinstance(v, type)
        and v.__module__ == module.__name__
        and v.__name__.endswith(("In", "Patch"))
    ]
    if not bodies:  # a read-only API (reports): then no operation takes a body at all
        doc = json.loads(committed_path(name).read_text())
        takes = [
            f"{method.upper()} {path}"
            for path, ops in doc["paths"].items()
            for method, op in ops.items()
            if isinstance(op, dict) and "requestBody" in op
        ]
        assert takes == [], f"{name}: bodies taken but no StrictIn model found: {takes}"
        return
    loose = [b.__name__ for b in bodies if not issubclass(b, StrictIn)]
    assert not loose, f"{name}: request bodies not derived from StrictIn: {loose}"


class Nested(StrictIn):
    contact: dict = {}
    lines: list[str] = []
    note: str = ""


def test_a_nul_character_anywhere_in_a_body_is_refused_with_where_it_is():
    """PostgreSQL cannot store NUL in text: refused as bad input, never a 500 from the database."""
    with pytest.raises(ValidationError) as refused:
        Nested.model_validate(
            {"note": "a\x00b", "contact": {"name": "王\x00"}, "lines": ["", "\x00"]}
        )
    said = str(refused.value)
    assert "note" in said and "contact.name" in said and "lines[1]" in said and "NUL" in said
    with pytest.raises(ValidationError):
        Nested.model_validate({"contact": {"na\x00me": "x"}})
    assert Nested.model_validate({"note": "换行\n和制表\t可以"}).note == "换行\n和制表\t可以"
