"""HTTP: orders, shipping, receipt and objections, installation, training."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
    RowId,
    Since,
    Until,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..domain import TrainingFollowUpOutcome
from ..models import OrderRow
from ..schemas.orders import (
    AcceptanceIn,
    BookingIn,
    FollowUpCallIn,
    ObjectionAnswerIn,
    OrderIn,
    OrderOut,
    ReceiptIn,
    ShippingIn,
    TrainingIn,
    TrainingOut,
)
from ..settings import ContractsSettings
from ..usecases import installation, orders, receipt, shipping, training
from .common import ORDER_READERS, SALES, business_tz

# who calls the customer after a training: the delivery/installation team or the service desk
FOLLOW_UP_CALLERS = (
    Role.DELIVERY,
    Role.ENGINEER,
    Role.SERVICE_AGENT,
    Role.SERVICE_SUPERVISOR,
)


def order_out(row: OrderRow) -> OrderOut:
    return OrderOut.model_validate(row)


def new_order(data: OrderIn) -> orders.NewOrder:
    lines = None if data.lines is None else [(line.model, line.quantity) for line in data.lines]
    return orders.NewOrder(
        contract_no=data.contract_no, delivery_place=data.delivery_place, lines=lines
    )


class OrderController(Controller):
    path = "/orders"
    tags = ["orders, delivery, installation"]

    @post("/", guards=[requires(*SALES)], summary="Enter an order from a signed contract")
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        data: JSONBody[OrderIn],
        request: Request,
    ) -> OrderOut:
        async with rt.sessions.begin() as s:
            return order_out(
                await orders.create_order(
                    s, new_order(data), request.user, utcnow(), settings.office_calendar
                )
            )

    @get("/", guards=[requires(*ORDER_READERS)], summary="List orders")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        contract_no: FromQuery[str | None] = None,
        customer_id: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        entered_from: Since = None,
        entered_to: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[OrderOut]:
        async with rt.sessions() as s:
            rows, total = await orders.list_orders(
                s,
                contract_no=contract_no,
                customer_id=customer_id,
                status=status,
                entered_from=entered_from,
                entered_to=entered_to,
                limit=limit,
                offset=offset,
            )
            return Page[OrderOut](
                items=[order_out(r) for r in rows], total=total, limit=limit, offset=offset
            )

    @get("/{order_no:str}", guards=[requires(*ORDER_READERS)], summary="One order")
    async def get_one(self, rt: NamedDependency[Runtime], order_no: FromPath[str]) -> OrderOut:
        async with rt.sessions() as s:
            return order_out(await orders.get_order(s, order_no))

    @post(
        "/{order_no:str}/shipping",
        guards=[requires(Role.DELIVERY)],
        status_code=200,
        summary="Fix the shipping time; DeliveryNotice goes out 24 h before",
    )
    async def shipping(
        self,
        rt: NamedDependency[Runtime],
        order_no: FromPath[str],
        data: JSONBody[ShippingIn],
        request: Request,
    ) -> OrderOut:
        async with rt.sessions.begin() as s:
            return order_out(
                await shipping.schedule_shipping(
                    s, order_no, shipping.Shipping(ships_at=data.ships_at), request.user, utcnow()
                )
            )

    @post(
        "/{order_no:str}/receipt",
        guards=[requires(Role.DELIVERY, *SALES)],
        status_code=200,
        summary="Record the customer's receipt (收货确认单) with objections",
    )
    async def receipt(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        order_no: FromPath[str],
        data: JSONBody[ReceiptIn],
        request: Request,
    ) -> OrderOut:
        async with rt.sessions.begin() as s:
            return order_out(
                await receipt.record_receipt(
                    s,
                    order_no,
                    receipt.Receipt(**data.model_dump()),
                    request.user,
                    utcnow(),
                    settings.office_calendar,
                )
            )

    @post(
        "/{order_no:str}/objections/{objection_no:int}/answer",
        guards=[requires(Role.DELIVERY, *SALES)],
        status_code=200,
        summary="Answer an objection (due within 2 h)",
    )
    async def answer(
        self,
        rt: NamedDependency[Runtime],
        order_no: FromPath[str],
        objection_no: RowId,
        data: JSONBody[ObjectionAnswerIn],
        request: Request,
    ) -> OrderOut:
        async with rt.sessions.begin() as s:
            return order_out(
                await receipt.answer_objection(
                    s,
                    order_no,
                    objection_no,
                    receipt.ObjectionAnswer(answer=data.answer),
                    request.user,
                    utcnow(),
                )
            )

    @post(
        "/{order_no:str}/installation/booking",
        guards=[requires(Role.ENGINEER, Role.DELIVERY)],
        status_code=200,
        summary="Book installation (due within 2 working days of receipt)",
    )
    async def book(
        self,
        rt: NamedDependency[Runtime],
        order_no: FromPath[str],
        data: JSONBody[BookingIn],
        request: Request,
    ) -> OrderOut:
        async with rt.sessions.begin() as s:
            return order_out(
                await installation.book_installation(
                    s, order_no, installation.Booking(**data.model_dump()), request.user, utcnow()
                )
            )

    @post(
        "/{order_no:str}/installation/acceptance",
        guards=[requires(Role.ENGINEER, Role.DELIVERY)],
        status_code=200,
        summary="Record the installation acceptance form (安装验收单)",
    )
    async def accept(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        order_no: FromPath[str],
        data: JSONBody[AcceptanceIn],
        request: Request,
    ) -> OrderOut:
        async with rt.sessions.begin() as s:
            return order_out(
                await installation.accept_installation(
                    s,
                    order_no,
                    installation.Acceptance(**data.model_dump()),
                    request.user,
                    utcnow(),
                    tz=business_tz(settings),
                )
            )

    @post(
        "/{order_no:str}/trainings",
        guards=[requires(Role.ENGINEER, Role.DELIVERY)],
        summary="Record a training session with its sign-in sheet",
    )
    async def training(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        order_no: FromPath[str],
        data: JSONBody[TrainingIn],
        request: Request,
    ) -> OrderOut:
        async with rt.sessions.begin() as s:
            return order_out(
                await training.record_training(
                    s,
                    order_no,
                    training.Training(**data.model_dump()),
                    request.user,
                    utcnow(),
                    office_calendar=settings.office_calendar,
                )
            )

    @post(
        "/{order_no:str}/trainings/{training_id:int}/follow-up-calls",
        guards=[requires(*FOLLOW_UP_CALLERS)],
        status_code=200,
        summary=(
            "Record a follow-up call after a training (培训后回访, within 3 working days): "
            "mastered, needs_retraining, or not_reached (call again; given up after 3 calls)"
        ),
    )
    async def follow_up_call(
        self,
        rt: NamedDependency[Runtime],
        order_no: FromPath[str],
        training_id: RowId,
        data: JSONBody[FollowUpCallIn],
        request: Request,
    ) -> TrainingOut:
        call = training.FollowUpCall(
            outcome=TrainingFollowUpOutcome(data.outcome), note=data.note, called_at=data.called_at
        )
        async with rt.sessions.begin() as s:
            row = await training.record_follow_up(
                s, order_no, training_id, call, request.user, utcnow()
            )
            return TrainingOut.model_validate(row)


class TrainingFollowUpController(Controller):
    path = "/training-follow-ups"
    tags = ["orders"]

    @get(
        "/",
        guards=[requires(*ORDER_READERS)],
        summary="Follow-up calls after trainings, soonest due first (open, overdue; paginated)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        open_only: Annotated[
            bool | None, QueryParameter(query="open", description="true: still to call")
        ] = None,
        overdue: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[TrainingOut]:
        async with rt.sessions() as s:
            rows, total = await training.list_follow_ups(s, open_only, overdue, limit, offset)
            return Page[TrainingOut](
                items=[TrainingOut.model_validate(r) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )
