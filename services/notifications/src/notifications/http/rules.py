"""The notification rules in force (loaded and validated at start)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency

from aftersales_shared.auth import requires

from ..usecases.planning import Notifier
from .access import READERS


class RulesController(Controller):
    path = "/rules"
    tags = ["rules"]

    @get(
        "/",
        guards=[requires(*READERS)],
        summary="The notification rules in force (loaded at start)",
    )
    async def rules(self, notifier: NamedDependency[Notifier]) -> dict[str, Any]:
        return notifier.rules.model_dump(mode="json", by_alias=True, exclude_defaults=True)
