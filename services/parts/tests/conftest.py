"""Fixtures of the parts tests: an app on a fresh database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from parts.app import create_app
from parts.settings import PartsSettings
from parts_support import PartsKit

from aftersales_testing.support import migrated


@pytest.fixture
def make_kit(databases: Any) -> Callable[..., Any]:
    async def make(**overrides: Any) -> PartsKit:
        settings = PartsSettings(
            database_url=await migrated(databases, "parts"),
            **({"nats_url": "nats://127.0.0.1:1"} | overrides),
        )
        return PartsKit(create_app(settings))

    return make
