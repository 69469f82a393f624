"""Dealers, agreements and grades: registration, changes, measured service, demotion reviews."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, QueryParameter
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.dealers import (
    DealerIn,
    DealerOut,
    DealerPatchIn,
    GradeChangeOut,
    GradeDecisionIn,
    GradeReviewIn,
    GradeReviewOut,
    GradeSetIn,
    MeasuresOut,
    TruckVisitIn,
)
from ..settings import DealersSettings
from ..usecases import dealers as uc_dealers
from ..usecases import grades as uc_grades
from .common import READ, R, WindowDays, ctx, page_of, scope


def new_dealer(data: DealerIn) -> uc_dealers.NewDealer:
    return uc_dealers.NewDealer(
        **data.model_dump(exclude={"contacts"}), contacts=[c.model_dump() for c in data.contacts]
    )


def dealer_changes(data: DealerPatchIn) -> uc_dealers.DealerChanges:
    """Fields left out or null change nothing."""
    contacts = None if data.contacts is None else [c.model_dump() for c in data.contacts]
    return uc_dealers.DealerChanges(**data.model_dump(exclude={"contacts"}), contacts=contacts)


class DealersController(Controller):
    path = "/dealers"
    tags = ["dealers"]

    @post(
        "/",
        guards=[requires(R.MANAGER)],
        summary="Register a dealer and its regional agency agreement",
    )
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        data: JSONBody[DealerIn],
        request: Request,
    ) -> DealerOut:
        async with rt.sessions.begin() as s:
            return DealerOut.model_validate(
                await uc_dealers.create_dealer(s, new_dealer(data), ctx(request, settings))
            )

    @get("/", guards=[requires(*READ)], summary="Dealers (a dealer user sees only itself)")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        region: FromQuery[str | None] = None,
        grade: Annotated[str | None, QueryParameter(pattern="^[ABCD]$")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[DealerOut]:
        async with rt.sessions() as s:
            rows, total = await uc_dealers.list_dealers(
                s, scope(request), region=region, grade=grade, limit=limit, offset=offset
            )
            return page_of(DealerOut, rows, total, limit, offset)

    @get("/{dealer_id:str}", guards=[requires(*READ)], summary="One dealer")
    async def get_one(
        self, rt: NamedDependency[Runtime], dealer_id: FromPath[str], request: Request
    ) -> DealerOut:
        async with rt.sessions() as s:
            return DealerOut.model_validate(
                await uc_dealers.get_dealer(s, dealer_id, scope(request))
            )

    @patch(
        "/{dealer_id:str}",
        guards=[requires(R.MANAGER)],
        summary="Change contacts, term, calendar, return mode",
    )
    async def update(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        dealer_id: FromPath[str],
        data: JSONBody[DealerPatchIn],
        request: Request,
    ) -> DealerOut:
        async with rt.sessions.begin() as s:
            return DealerOut.model_validate(
                await uc_dealers.update_dealer(
                    s, dealer_id, dealer_changes(data), ctx(request, settings)
                )
            )

    @get("/{dealer_id:str}/grade-history", guards=[requires(*READ)], summary="Grade history")
    async def history(
        self, rt: NamedDependency[Runtime], dealer_id: FromPath[str], request: Request
    ) -> list[GradeChangeOut]:
        async with rt.sessions() as s:
            rows = await uc_grades.grade_history(s, dealer_id, scope(request))
            return [GradeChangeOut.model_validate(r) for r in rows]

    @post(
        "/{dealer_id:str}/grade",
        guards=[requires(R.MANAGER)],
        status_code=200,
        summary="Set a grade with a reason",
    )
    async def set_grade(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        dealer_id: FromPath[str],
        data: JSONBody[GradeSetIn],
        request: Request,
    ) -> DealerOut:
        async with rt.sessions.begin() as s:
            return DealerOut.model_validate(
                await uc_grades.set_grade(
                    s, dealer_id, uc_grades.GradeChange(**data.model_dump()), ctx(request, settings)
                )
            )

    @get(
        "/{dealer_id:str}/measures",
        guards=[requires(*READ)],
        summary="Measured service and demotion rules broken",
    )
    async def measures(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        dealer_id: FromPath[str],
        request: Request,
        window_days: WindowDays = None,
    ) -> MeasuresOut:
        async with rt.sessions() as s:
            return MeasuresOut.model_validate(
                await uc_grades.service_measures(s, dealer_id, ctx(request, settings), window_days)
            )

    @post(
        "/{dealer_id:str}/grade-reviews",
        guards=[requires(R.MANAGER)],
        summary="Propose a demotion from measured service",
    )
    async def propose(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        dealer_id: FromPath[str],
        data: JSONBody[GradeReviewIn],
        request: Request,
    ) -> GradeReviewOut:
        async with rt.sessions.begin() as s:
            row = await uc_grades.propose_demotion(
                s, dealer_id, data.window_days, ctx(request, settings)
            )
            return GradeReviewOut.model_validate(row)

    @post(
        "/{dealer_id:str}/truck-visits",
        guards=[requires(R.MANAGER, R.DELIVERY)],
        summary="A delivery truck calls (old parts may ride back)",
    )
    async def add_truck(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        dealer_id: FromPath[str],
        data: JSONBody[TruckVisitIn],
        request: Request,
    ) -> dict[str, Any]:
        async with rt.sessions.begin() as s:
            row = await uc_dealers.add_truck_visit(
                s, dealer_id, data.visit_date, ctx(request, settings)
            )
            return {
                "id": row.id,
                "dealer_id": row.dealer_id,
                "visit_date": row.visit_date.isoformat(),
            }

    @get(
        "/{dealer_id:str}/truck-visits",
        guards=[requires(*READ, R.DELIVERY)],
        summary="Delivery truck visits",
    )
    async def trucks(
        self, rt: NamedDependency[Runtime], dealer_id: FromPath[str], request: Request
    ) -> list[dict[str, Any]]:
        async with rt.sessions() as s:
            rows = await uc_dealers.list_truck_visits(s, dealer_id, scope(request))
            return [
                {"id": r.id, "dealer_id": r.dealer_id, "visit_date": r.visit_date.isoformat()}
                for r in rows
            ]


class GradeReviewsController(Controller):
    path = "/grade-reviews"
    tags = ["dealers"]

    @get("/", guards=[requires(*READ)], summary="Demotion proposals")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        dealer_id: FromQuery[str | None] = None,
        status: Annotated[
            str | None, QueryParameter(pattern="^(proposed|confirmed|rejected)$")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[GradeReviewOut]:
        async with rt.sessions() as s:
            rows, total = await uc_grades.list_reviews(
                s,
                scope(request),
                dealer_id=dealer_id,
                status=status,
                limit=limit,
                offset=offset,
            )
            return page_of(GradeReviewOut, rows, total, limit, offset)

    @post(
        "/{review_id:str}/decision",
        guards=[requires(R.MANAGER)],
        status_code=200,
        summary="Manager confirms or rejects a demotion",
    )
    async def decide(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        review_id: FromPath[str],
        data: JSONBody[GradeDecisionIn],
        request: Request,
    ) -> GradeReviewOut:
        async with rt.sessions.begin() as s:
            return GradeReviewOut.model_validate(
                await uc_grades.decide_review(
                    s,
                    review_id,
                    uc_grades.ReviewDecision(**data.model_dump()),
                    ctx(request, settings),
                )
            )
