"""The complaints page of the service desk and its supervisors: the open complaints (a low survey
score turned into one by the tickets service among them), updated live as the board is."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from ..complaints import load_complaints
from ..upstream import Upstream
from .pages import current_user, problem, sign_in_again

# who handles complaints (tickets' COMPLAINT_DESK): the desk, its supervisors, management
COMPLAINT_ROLES = ("service_agent", "service_supervisor", "manager")


class ComplaintsController(Controller):
    path = "/complaints"
    include_in_schema = False

    @get("/")
    async def complaints(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*COMPLAINT_ROLES):
            return problem(
                request,
                403,
                "投诉列表仅限客服、客服主管和管理层",
                "complaints are the service desk's, its supervisors' and management's",
            )
        listed = await load_complaints(upstream, user, utcnow())
        return Template("complaints.html", context={"user": user, "listed": listed})
