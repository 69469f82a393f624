"""Fixtures of the console tests (helpers: console_support.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def desk_parts(databases: Any, streams_ready: str, clock: Any) -> tuple[Any, str, Any]:
    """What console_support.open_desk needs: a database server, NATS with its streams, the
    clock."""
    return databases, streams_ready, clock
