"""The engineers dispatch may choose, with their open tickets (the console's picker)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from aftersales_shared.auth import Role, requires
from aftersales_shared.service import Runtime

from ..schemas import EngineerOut
from ..settings import TicketsSettings
from ..usecases import engineers


class EngineerController(Controller):
    path = "/engineers"
    tags = ["dispatch"]

    @get(
        "/",
        guards=[requires(Role.SERVICE_SUPERVISOR, Role.SERVICE_AGENT, Role.MANAGER)],
        summary="Engineers to dispatch to: name, region, open tickets (least loaded first)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        q: Annotated[str, QueryParameter(max_length=60)] = "",
    ) -> list[EngineerOut]:
        async with rt.sessions() as session:
            found = await engineers.engineers(session, settings.engineers, q)
        return [EngineerOut.model_validate(e) for e in found]
