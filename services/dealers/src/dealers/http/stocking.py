"""Stocking plans: selling seasons and the dealers' parts plans."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.stocking import PlanIn, PlanOut, SeasonIn, SeasonOut
from ..settings import DealersSettings
from ..usecases import stocking as uc_stocking
from .common import DEALER_WORK, READ, R, ctx, page_of, scope


def stocking_plan(data: PlanIn) -> uc_stocking.StockingPlan:
    return uc_stocking.StockingPlan(
        season_code=data.season_code,
        lines=tuple(uc_stocking.PlanLine(**ln.model_dump()) for ln in data.lines),
        dealer_id=data.dealer_id,
    )


class StockingController(Controller):
    path = "/"
    tags = ["stocking plans"]

    @post(
        "/seasons",
        guards=[requires(R.MANAGER)],
        summary="A selling season; plans are due 30 days before it",
    )
    async def create_season(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        data: JSONBody[SeasonIn],
        request: Request,
    ) -> SeasonOut:
        async with rt.sessions.begin() as s:
            return SeasonOut.model_validate(
                await uc_stocking.create_season(
                    s, uc_stocking.NewSeason(**data.model_dump()), ctx(request, settings)
                )
            )

    @get("/seasons", guards=[requires(*READ)], summary="Selling seasons")
    async def seasons(
        self, rt: NamedDependency[Runtime], limit: Limit = 50, offset: Offset = 0
    ) -> Page[SeasonOut]:
        async with rt.sessions() as s:
            rows, total = await uc_stocking.list_seasons(s, limit, offset)
            return page_of(SeasonOut, rows, total, limit, offset)

    @post(
        "/stocking-plans",
        guards=[requires(*DEALER_WORK)],
        summary="Submit a parts stocking plan",
    )
    async def submit(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        data: JSONBody[PlanIn],
        request: Request,
    ) -> PlanOut:
        async with rt.sessions.begin() as s:
            return PlanOut.model_validate(
                await uc_stocking.submit_plan(s, stocking_plan(data), ctx(request, settings))
            )

    @get("/stocking-plans", guards=[requires(*READ)], summary="Stocking plans")
    async def plans(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        dealer_id: FromQuery[str | None] = None,
        season_code: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[PlanOut]:
        async with rt.sessions() as s:
            rows, total = await uc_stocking.list_plans(
                s,
                scope(request),
                dealer_id=dealer_id,
                season_code=season_code,
                limit=limit,
                offset=offset,
            )
            return page_of(PlanOut, rows, total, limit, offset)

    @get("/stocking-plans/{plan_id:str}", guards=[requires(*READ)], summary="One stocking plan")
    async def plan(
        self, rt: NamedDependency[Runtime], plan_id: FromPath[str], request: Request
    ) -> PlanOut:
        async with rt.sessions() as s:
            return PlanOut.model_validate(await uc_stocking.get_plan(s, plan_id, scope(request)))
