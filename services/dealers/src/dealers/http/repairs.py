"""Warranty repair records (三包维修记录) and paid service: request, arrangement, completion,
export."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.exports import csv_response
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, QueryParameter
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.repairs import ArrangeIn, CompleteIn, RepairIn, RepairOut
from ..settings import DealersSettings
from ..usecases import repairs as uc_repairs
from .common import DEALER_WORK, READ, ctx, page_of, scope


def completion(data: CompleteIn) -> uc_repairs.Completion:
    return uc_repairs.Completion(
        repair_description=data.repair_description,
        parts=tuple(uc_repairs.UsedPart(**p.model_dump()) for p in data.parts),
        labour_fee=data.labour_fee,
        travel_fee=data.travel_fee,
        confirmation=uc_repairs.UserConfirmation(**data.confirmation.model_dump()),
    )


class RepairsController(Controller):
    path = "/repair-records"
    tags = ["warranty repairs"]

    @post(
        "/",
        guards=[requires(*DEALER_WORK)],
        summary="Record a service request (三包维修记录 or paid service); starts the 2-hour clock",
    )
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        data: JSONBody[RepairIn],
        request: Request,
    ) -> RepairOut:
        async with rt.sessions.begin() as s:
            return RepairOut.model_validate(
                await uc_repairs.open_repair(
                    s, uc_repairs.RepairRequest(**data.model_dump()), ctx(request, settings)
                )
            )

    @get("/", guards=[requires(*READ)], summary="Repair records")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        dealer_id: FromQuery[str | None] = None,
        kind: Annotated[str | None, QueryParameter(pattern="^(warranty|paid)$")] = None,
        status: Annotated[
            str | None, QueryParameter(pattern="^(requested|arranged|completed)$")
        ] = None,
        claim_status: FromQuery[str | None] = None,
        serial_no: FromQuery[str | None] = None,
        ticket_no: FromQuery[str | None] = None,
        parts_owed: Annotated[
            bool | None,
            QueryParameter(description="true: only records with old parts still owed back"),
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[RepairOut]:
        async with rt.sessions() as s:
            rows, total = await uc_repairs.list_repairs(
                s,
                scope(request),
                dealer_id=dealer_id,
                kind=kind,
                status=status,
                claim_status=claim_status,
                serial_no=serial_no,
                ticket_no=ticket_no,
                parts_owed=parts_owed,
                limit=limit,
                offset=offset,
            )
            return page_of(RepairOut, rows, total, limit, offset)

    @get("/export.csv", guards=[requires(*READ)], summary="Repair records as CSV")
    async def export(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        dealer_id: FromQuery[str | None] = None,
    ) -> Response[str]:
        async with rt.sessions() as s:
            rows, _ = await uc_repairs.list_repairs(
                s,
                scope(request),
                dealer_id=dealer_id,
                kind=None,
                status=None,
                claim_status=None,
                serial_no=None,
                ticket_no=None,
                limit=100_000,
                offset=0,
            )
        return csv_response(
            "repair-records.csv",
            [
                "record_no",
                "dealer_id",
                "serial_no",
                "kind",
                "ticket_no",
                "status",
                "requested_at",
                "arrange_due",
                "arranged_late",
                "confirmed_by",
                "parts_cost",
                "labour_fee",
                "travel_fee",
                "claim_amount",
                "customer_charge",
                "claim_status",
                "claim_reason",
            ],
            (
                [
                    r.record_no,
                    r.dealer_id,
                    r.serial_no,
                    r.kind,
                    r.ticket_no or "",
                    r.status,
                    r.requested_at.isoformat(),
                    r.arrange_due.isoformat(),
                    r.arranged_late,
                    r.confirmed_by or "",
                    r.parts_cost,
                    r.labour_fee,
                    r.travel_fee,
                    r.claim_amount,
                    r.customer_charge,
                    r.claim_status,
                    r.claim_reason or "",
                ]
                for r in rows
            ),
        )

    @get("/{record_id:str}", guards=[requires(*READ)], summary="One repair record")
    async def get_one(
        self, rt: NamedDependency[Runtime], record_id: FromPath[str], request: Request
    ) -> RepairOut:
        async with rt.sessions() as s:
            return RepairOut.model_validate(
                await uc_repairs.get_repair(s, record_id, scope(request))
            )

    @post(
        "/{record_id:str}/arrange",
        guards=[requires(*DEALER_WORK)],
        status_code=200,
        summary="Service arranged: engineer, appointment, user told",
    )
    async def arrange(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        record_id: FromPath[str],
        data: JSONBody[ArrangeIn],
        request: Request,
    ) -> RepairOut:
        async with rt.sessions.begin() as s:
            return RepairOut.model_validate(
                await uc_repairs.arrange_repair(
                    s,
                    record_id,
                    uc_repairs.Arrangement(**data.model_dump()),
                    ctx(request, settings),
                )
            )

    @post(
        "/{record_id:str}/complete",
        guards=[requires(*DEALER_WORK)],
        status_code=200,
        summary="Repair done: parts, fees, the user's confirmation",
    )
    async def complete(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        record_id: FromPath[str],
        data: JSONBody[CompleteIn],
        request: Request,
    ) -> RepairOut:
        async with rt.sessions.begin() as s:
            return RepairOut.model_validate(
                await uc_repairs.complete_repair(
                    s, record_id, completion(data), ctx(request, settings)
                )
            )
