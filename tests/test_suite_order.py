"""The order ./dev test hands files to its workers: files holding long tests first, longest first,
each file kept whole (its module fixtures set up once), the rest as collected."""

from __future__ import annotations

import pytest

from aftersales_testing.plugin import pytest_collection_modifyitems


class Item:
    def __init__(self, nodeid: str, seconds: float | None = None) -> None:
        self.nodeid = nodeid
        self.mark = pytest.mark.long(seconds).mark if seconds is not None else None

    def get_closest_marker(self, name: str):  # noqa: ANN201 - as pytest.Item's
        return self.mark if name == "long" else None


def test_long_files_first_longest_first_and_files_kept_whole():
    items = [
        Item("a.py::one"),
        Item("b.py::quick"),
        Item("b.py::slow", 60),
        Item("c.py::one"),
        Item("d.py::slowest", 500),
        Item("d.py::after"),
        Item("e.py::one"),
    ]
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [
        "d.py::slowest",
        "d.py::after",
        "b.py::quick",
        "b.py::slow",
        "a.py::one",
        "c.py::one",
        "e.py::one",
    ]
