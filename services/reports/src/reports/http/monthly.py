"""The monthly report over HTTP (admin, manager, service supervisor)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import Limit, Offset, PathParameter, QueryParameter
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..domain import MONTH_PATTERN, Month, Policy
from ..schemas import TicketOut
from ..usecases import monthly
from ..usecases.monthly import Filters

READERS = (Role.MANAGER, Role.SERVICE_SUPERVISOR)
MonthPath = Annotated[
    str, PathParameter(pattern=MONTH_PATTERN, description="YYYY-MM, in the business time zone")
]
Text = Annotated[str | None, QueryParameter(max_length=100)]


class MonthlyController(Controller):
    path = "/reports/monthly"
    tags = ["reports"]
    guards = [requires(*READERS)]

    @get(
        "/{month:str}",
        summary="The monthly after-sales report as data (filters: product line, region, dealer)",
    )
    async def report(
        self,
        rt: NamedDependency[Runtime],
        policy: NamedDependency[Policy],
        month: MonthPath,
        product_line: Text = None,
        region: Text = None,
        dealer_id: Text = None,
    ) -> dict[str, Any]:
        filters = Filters(product_line, region, dealer_id)
        async with rt.sessions() as session:
            return await monthly.monthly_report(
                session, Month.parse(month), filters, policy, utcnow()
            )

    @get(
        "/{month:str}/tickets",
        summary="The tickets behind one figure of the report (drill-down)",
    )
    async def tickets(
        self,
        rt: NamedDependency[Runtime],
        policy: NamedDependency[Policy],
        month: MonthPath,
        figure: Annotated[
            str,
            QueryParameter(
                min_length=1,
                max_length=300,
                description="a figure's name as the report gives it, e.g. batch:XK-200|B2611",
            ),
        ],
        product_line: Text = None,
        region: Text = None,
        dealer_id: Text = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[TicketOut]:
        filters = Filters(product_line, region, dealer_id)
        async with rt.sessions() as session:
            rows = await monthly.tickets_behind(
                session, Month.parse(month), filters, policy, figure
            )
        items = [TicketOut.model_validate(r) for r in rows[offset : offset + limit]]
        return Page(items=items, total=len(rows), limit=limit, offset=offset)
