"""One ticket's page (read-only in this slice): its clocks and its timeline."""

from __future__ import annotations

import re

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from ..ticket import load_ticket
from ..upstream import Upstream
from .pages import current_user, problem, sign_in_again

TICKET_NO = re.compile(r"^[A-Za-z0-9-]{1,40}$")


class TicketController(Controller):
    path = "/tickets"
    include_in_schema = False

    @get("/{no:str}")
    async def ticket(
        self, request: Request, no: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not TICKET_NO.fullmatch(no):
            return problem(
                request,
                400,
                "工单号格式不对",
                "a ticket number is letters, digits and - (SV-20261130-0001)",
            )
        page = await load_ticket(upstream, user, no, utcnow())
        return Template("ticket.html", context={"user": user, "page": page})
