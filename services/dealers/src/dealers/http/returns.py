"""Old-part returns and inspection: shipments, receipt, verdicts, reusable and scrap stores."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
    RowId,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.repairs import RepairOut
from ..schemas.returns import InspectionIn, ShipmentIn, ShipmentOut, StockEntryOut
from ..settings import DealersSettings
from ..usecases import inspection as uc_inspection
from ..usecases import returns as uc_returns
from .common import DEALER_WORK, READ, R, ctx, page_of, scope


def shipment_out(row: Any, parts: int) -> ShipmentOut:
    return ShipmentOut.model_validate(row).model_copy(update={"parts": parts})


class ShipmentsController(Controller):
    path = "/part-shipments"
    tags = ["old-part returns"]

    @post(
        "/",
        guards=[requires(*DEALER_WORK)],
        summary="Ship old parts back, listing the repair records covered",
    )
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        data: JSONBody[ShipmentIn],
        request: Request,
    ) -> ShipmentOut:
        async with rt.sessions.begin() as s:
            return shipment_out(
                *await uc_returns.ship_parts(
                    s, uc_returns.PartsShipment(**data.model_dump()), ctx(request, settings)
                )
            )

    @get("/", guards=[requires(*READ)], summary="Old-part shipments")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        dealer_id: FromQuery[str | None] = None,
        received: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ShipmentOut]:
        async with rt.sessions() as s:
            rows, total = await uc_returns.list_shipments(
                s,
                scope(request),
                dealer_id=dealer_id,
                received=received,
                limit=limit,
                offset=offset,
            )
            return Page[ShipmentOut](
                items=[shipment_out(row, parts) for row, parts in rows],
                total=total,
                limit=limit,
                offset=offset,
            )

    @get("/{shipment_id:str}", guards=[requires(*READ)], summary="One shipment")
    async def get_one(
        self, rt: NamedDependency[Runtime], shipment_id: FromPath[str], request: Request
    ) -> ShipmentOut:
        async with rt.sessions() as s:
            row = await uc_returns.get_shipment(s, shipment_id, scope(request))
            return shipment_out(row, await uc_returns.shipment_parts(s, row.id))

    @post(
        "/{shipment_id:str}/receive",
        guards=[requires(R.TECHNICAL)],
        status_code=200,
        summary="Technical department receives the parts",
    )
    async def receive(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        shipment_id: FromPath[str],
        request: Request,
    ) -> ShipmentOut:
        async with rt.sessions.begin() as s:
            return shipment_out(
                *await uc_returns.receive_shipment(s, shipment_id, ctx(request, settings))
            )


class InspectionsController(Controller):
    path = "/parts"
    tags = ["inspection"]

    @post(
        "/{part_id:int}/inspection",
        guards=[requires(R.TECHNICAL)],
        status_code=200,
        summary="Verdict on a returned part; decides the claim",
    )
    async def inspect(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        part_id: RowId,
        data: JSONBody[InspectionIn],
        request: Request,
    ) -> RepairOut:
        async with rt.sessions.begin() as s:
            return RepairOut.model_validate(
                await uc_inspection.inspect_part(
                    s,
                    part_id,
                    uc_inspection.Inspection(**data.model_dump()),
                    ctx(request, settings),
                )
            )


class StockController(Controller):
    path = "/stock-entries"
    tags = ["inspection"]

    @get(
        "/",
        guards=[requires(*READ)],
        summary="Inspected parts in the reusable and scrap stores",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        store: Annotated[str | None, QueryParameter(pattern="^(reusable|scrap)$")] = None,
        dealer_id: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[StockEntryOut]:
        async with rt.sessions() as s:
            rows, total = await uc_inspection.list_stock(
                s, scope(request), store=store, dealer_id=dealer_id, limit=limit, offset=offset
            )
            return page_of(StockEntryOut, rows, total, limit, offset)
