"""The supervisor's queue over HTTP: unassigned and at-risk tickets."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.http import Limit, Offset
from aftersales_shared.service import Runtime

from ..schemas import TicketPage
from ..usecases import search
from .encoding import ticket_page


class QueueController(Controller):
    path = "/queue"
    tags = ["tickets"]

    @get(
        "/",
        guards=[requires(Role.SERVICE_SUPERVISOR, Role.MANAGER)],
        summary="Supervisor queue: unassigned and at-risk",
    )
    async def queue(
        self, rt: NamedDependency[Runtime], limit: Limit = 50, offset: Offset = 0
    ) -> TicketPage:
        async with rt.sessions() as session:
            rows, total = await search.supervisor_queue(session, limit, offset)
            return ticket_page(rows, total, limit, offset)
