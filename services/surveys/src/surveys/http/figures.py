"""Satisfaction figures for supervisors and managers: grouped, as CSV, and the score
distribution."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.exports import content_disposition
from aftersales_shared.http import FromQuery, QueryParameter
from aftersales_shared.service import Runtime

from ..schemas import DistributionOut, SatisfactionOut
from ..usecases import figures
from ..usecases.figures import GroupBy
from .surveys import Month

FIGURE_READERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER)


class FiguresController(Controller):
    path = "/figures"
    tags = ["figures"]
    guards = [requires(*FIGURE_READERS)]

    @get(
        "/satisfaction",
        summary="Satisfaction per month, engineer, product, dealer or channel; response rate",
    )
    async def satisfaction(
        self,
        rt: NamedDependency[Runtime],
        by: Annotated[
            GroupBy, QueryParameter(description="month | engineer | product | dealer | channel")
        ] = GroupBy.MONTH,
        month_from: Month = None,
        month_to: Month = None,
        dealer_id: FromQuery[str | None] = None,
    ) -> SatisfactionOut:
        async with rt.sessions() as session:
            result = await figures.satisfaction(
                session, by, month_from=month_from, month_to=month_to, dealer_id=dealer_id
            )
        return SatisfactionOut.model_validate(result)

    @get(
        "/satisfaction.csv",
        summary="The same figures as CSV (UTF-8 with BOM, opens in Excel)",
        media_type="text/csv",
    )
    async def satisfaction_csv(
        self,
        rt: NamedDependency[Runtime],
        by: Annotated[GroupBy, QueryParameter()] = GroupBy.MONTH,
        month_from: Month = None,
        month_to: Month = None,
        dealer_id: FromQuery[str | None] = None,
    ) -> Response[Any]:
        async with rt.sessions() as session:
            result = await figures.satisfaction(
                session, by, month_from=month_from, month_to=month_to, dealer_id=dealer_id
            )
        name = f"satisfaction-by-{by.value}.csv"
        return Response(
            figures.to_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": content_disposition(name)},
        )

    @get(
        "/distribution",
        summary="How many answers gave each score, per dimension",
        media_type=MediaType.JSON,
    )
    async def distribution(
        self,
        rt: NamedDependency[Runtime],
        month_from: Month = None,
        month_to: Month = None,
        dealer_id: FromQuery[str | None] = None,
    ) -> DistributionOut:
        async with rt.sessions() as session:
            result = await figures.distribution(
                session, month_from=month_from, month_to=month_to, dealer_id=dealer_id
            )
        return DistributionOut.model_validate(result)
