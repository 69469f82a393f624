"""Units sold through dealers (sale registration) and ownership conflicts over their serials."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, QueryParameter
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.warranty import UnitConflictDecisionIn, UnitConflictOut, UnitIn, UnitOut
from ..settings import DealersSettings
from ..usecases import conflicts as uc_conflicts
from ..usecases import units as uc_units
from .common import READ, R, ctx, page_of, scope


def unit_sale(data: UnitIn) -> uc_units.Sale:
    """A dealer's own registration of one unit it sold."""
    return uc_units.Sale(
        source=uc_units.SaleSource.DEALER,
        dealer_id=data.dealer_id,
        sale_date=data.sale_date,
        customer_name=data.customer_name,
        items=(uc_units.SoldItem(data.serial_no, data.model, data.warranty_end),),
        contract_no=data.contract_no,
    )


class UnitsController(Controller):
    path = "/units"
    tags = ["warranty cards"]

    @post(
        "/",
        guards=[requires(R.DEALER, R.MANAGER, R.SALES)],
        summary="Register a unit sold through a dealer",
    )
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        data: JSONBody[UnitIn],
        request: Request,
    ) -> UnitOut:
        async with rt.sessions.begin() as s:
            sold = await uc_units.register_sale(
                s, unit_sale(data), utcnow(), settings, request.user
            )
            return UnitOut.model_validate(sold.units[0])

    @get(
        "/",
        guards=[requires(*READ)],
        summary="Units sold through dealers and their card status",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        dealer_id: FromQuery[str | None] = None,
        card_status: Annotated[
            str | None, QueryParameter(pattern="^(pending|registered|overdue)$")
        ] = None,
        serial_no: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[UnitOut]:
        async with rt.sessions() as s:
            rows, total = await uc_units.list_units(
                s,
                scope(request),
                dealer_id=dealer_id,
                card_status=card_status,
                serial_no=serial_no,
                limit=limit,
                offset=offset,
            )
            return page_of(UnitOut, rows, total, limit, offset)

    @get("/{serial_no:str}", guards=[requires(*READ)], summary="One sold unit")
    async def get_one(
        self, rt: NamedDependency[Runtime], serial_no: FromPath[str], request: Request
    ) -> UnitOut:
        async with rt.sessions() as s:
            return UnitOut.model_validate(await uc_units.get_unit(s, serial_no, scope(request)))


class UnitConflictsController(Controller):
    path = "/unit-conflicts"
    tags = ["warranty cards"]
    guards = [requires(R.MANAGER)]

    @get("/", summary="Serials a dealer registered that a contract sells through another dealer")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        status: Annotated[str | None, QueryParameter(pattern="^(open|resolved)$")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[UnitConflictOut]:
        async with rt.sessions() as s:
            rows, total = await uc_conflicts.list_conflicts(s, status, limit, offset)
            return page_of(UnitConflictOut, rows, total, limit, offset)

    @post(
        "/{conflict_id:str}/resolve",
        status_code=200,
        summary="A manager closes an ownership conflict",
    )
    async def resolve(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        conflict_id: FromPath[str],
        data: JSONBody[UnitConflictDecisionIn],
        request: Request,
    ) -> UnitConflictOut:
        async with rt.sessions.begin() as s:
            row = await uc_conflicts.resolve_conflict(
                s, conflict_id, data.resolution, data.note, ctx(request, settings)
            )
            return UnitConflictOut.model_validate(row)
