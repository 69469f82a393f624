"""Moving stock (the ledger), balances, reservations and a ticket's parts cost."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import FromQuery, JSONBody, Limit, Offset, Since, Until
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..domain import MovementKind
from ..schemas import (
    BalanceOut,
    MovementIn,
    MovementOut,
    ReservationCancelIn,
    ReservationIn,
    ReservationOut,
    TicketCostsOut,
)
from ..usecases import money, movements, queries, reservations
from .common import COST_READERS, MOVERS, READERS, page_of

Text = Annotated[str | None, QueryParameter(min_length=1, max_length=100)]
TicketPath = Annotated[str, PathParameter(min_length=1, max_length=100, description="工单号")]
ReservationPath = Annotated[str, PathParameter(min_length=1, max_length=36)]
REPLAYED = "Idempotent-Replayed"


class MovementsController(Controller):
    path = "/movements"
    tags = ["ledger"]

    @post(
        "/",
        guards=[requires(*MOVERS)],
        summary="Record a movement (receive, transfer, issue, return_unused, faulty_returned, "
        "scrap); a retry with the same idempotency key answers the first result (200) and writes "
        "nothing",
        status_code=201,
    )
    async def record(
        self, rt: NamedDependency[Runtime], data: JSONBody[MovementIn], request: Request
    ) -> Response[MovementOut]:
        cmd = movements.Movement(**data.model_dump())
        row, replayed = await movements.submit(rt.sessions, cmd, request.user, utcnow())
        return Response(
            MovementOut.model_validate(row),
            status_code=200 if replayed else 201,
            headers={REPLAYED: "true" if replayed else "false"},
        )

    @get("/", guards=[requires(*READERS)], summary="The ledger (库存流水), oldest first")
    async def ledger(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        part_no: Text = None,
        location_id: Text = None,
        ticket_no: Text = None,
        kind: FromQuery[MovementKind | None] = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[MovementOut]:
        async with rt.sessions() as s:
            rows, total = await queries.list_ledger(
                s,
                request.user,
                limit,
                offset,
                part_no=part_no,
                location_id=location_id,
                ticket_no=ticket_no,
                kind=kind,
                since=since,
                until=until,
            )
            return page_of(MovementOut, rows, total, limit, offset)


class StockController(Controller):
    path = "/stock"
    tags = ["stock"]

    @get(
        "/",
        guards=[requires(*READERS)],
        summary="Stock per part and location: on hand, reserved, available, faulty",
    )
    async def balances(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        part_no: Text = None,
        location_id: Text = None,
        in_stock: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[BalanceOut]:
        async with rt.sessions() as s:
            rows, total = await queries.list_balances(
                s,
                request.user,
                part_no=part_no,
                location_id=location_id,
                in_stock=in_stock,
                limit=limit,
                offset=offset,
            )
            return page_of(BalanceOut, rows, total, limit, offset)


class ReservationsController(Controller):
    path = "/reservations"
    tags = ["reservations"]

    @post(
        "/",
        guards=[requires(*MOVERS)],
        summary="Reserve a part for a ticket at a location (covered now, or when stock arrives: "
        "PartsArrivedForTicket)",
        status_code=201,
    )
    async def reserve(
        self, rt: NamedDependency[Runtime], data: JSONBody[ReservationIn], request: Request
    ) -> ReservationOut:
        async with rt.sessions.begin() as s:
            row = await reservations.reserve(
                s, reservations.NewReservation(**data.model_dump()), request.user, utcnow()
            )
            return ReservationOut.model_validate(row)

    @post(
        "/{reservation_id:str}/cancel",
        guards=[requires(*MOVERS)],
        summary="Cancel an open reservation (its units become free again)",
        status_code=200,
    )
    async def cancel(
        self,
        rt: NamedDependency[Runtime],
        reservation_id: ReservationPath,
        data: JSONBody[ReservationCancelIn],
        request: Request,
    ) -> ReservationOut:
        async with rt.sessions.begin() as s:
            row = await reservations.cancel(s, reservation_id, data.reason, request.user, utcnow())
            return ReservationOut.model_validate(row)

    @get("/", guards=[requires(*READERS)], summary="Reservations, filtered")
    async def list_reservations(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        ticket_no: Text = None,
        part_no: Text = None,
        location_id: Text = None,
        status: Annotated[
            str | None, QueryParameter(pattern="^(open|fulfilled|cancelled)$")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ReservationOut]:
        async with rt.sessions() as s:
            rows, total = await reservations.list_reservations(
                s,
                request.user,
                ticket_no=ticket_no,
                part_no=part_no,
                location_id=location_id,
                status=status,
                limit=limit,
                offset=offset,
            )
            return page_of(ReservationOut, rows, total, limit, offset)

    @get("/{reservation_id:str}", guards=[requires(*READERS)], summary="One reservation")
    async def one(
        self, rt: NamedDependency[Runtime], reservation_id: ReservationPath, request: Request
    ) -> ReservationOut:
        async with rt.sessions() as s:
            row = await reservations.get(s, reservation_id, request.user)
            return ReservationOut.model_validate(row)


class TicketCostsController(Controller):
    path = "/tickets"
    tags = ["costs"]

    @get(
        "/{ticket_no:str}/costs",
        guards=[requires(*COST_READERS)],
        summary="A ticket's cost: parts issued minus returned (at the price at issue), labour and "
        "travel; warranty or chargeable; the approved travel expense lines (报销) that name it",
    )
    async def costs(
        self, rt: NamedDependency[Runtime], ticket_no: TicketPath, request: Request
    ) -> TicketCostsOut:
        async with rt.sessions() as s:
            data: dict[str, Any] = await money.ticket_costs(s, ticket_no, request.user)
            return TicketCostsOut.model_validate(data)
