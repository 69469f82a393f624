"""Use cases after signing: orders, delivery notice, receipt and objections, installation, training."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.calendars import ALWAYS_OPEN, load_calendar
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import DeliveryNoticeV1, Envelope
from aftersales_shared.events.contracts import (
    InstallationBookingOverdueV1,
    ObjectionAnswerOverdueV1,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule

from . import domain
from .domain import OrderStatus
from .models import ContractRow, ObjectionRow, OrderRow, TrainingRow
from .schemas import (
    AcceptanceIn,
    BookingIn,
    ObjectionAnswerIn,
    OrderIn,
    ReceiptIn,
    ShippingIn,
    TrainingIn,
)
from .services import audit, page, today

NOTICE_JOB = "contracts.delivery_notice"
OBJECTION_JOB = "contracts.objection_answer_due"
BOOKING_JOB = "contracts.installation_booking_due"


async def get_order(session: AsyncSession, order_no: str) -> OrderRow:
    row = await session.get(OrderRow, order_no)
    if row is None:
        raise NotFound(f"订单{order_no}不存在 (order not found)")
    return row


async def _office_calendar(session: AsyncSession, calendar_id: str, office_calendar: str):  # type: ignore[no-untyped-def]
    return await load_calendar(
        session, office_calendar if calendar_id == ALWAYS_OPEN else calendar_id
    )


async def create_order(
    session: AsyncSession,
    cmd: OrderIn,
    actor: Principal,
    now: datetime,
    office_calendar: str = "default",
) -> OrderRow:
    """录入订单 from the newest signed version; entry is due within 1 working day of signing."""
    contract = await session.scalar(
        select(ContractRow)
        .where(
            ContractRow.contract_no == cmd.contract_no,
            ContractRow.status.in_([domain.ContractStatus.SIGNED, domain.ContractStatus.ARCHIVED]),
        )
        .order_by(ContractRow.version.desc())
        .limit(1)
    )
    if contract is None:
        exists = await session.scalar(
            select(ContractRow.status).where(ContractRow.contract_no == cmd.contract_no).limit(1)
        )
        if exists is None:
            raise NotFound(f"合同{cmd.contract_no}不存在 (contract not found)")
        domain.ensure_contract_orderable(exists, cmd.contract_no)
    assert contract is not None
    sold = Counter(p.model for p in contract.products)
    lines = (
        [(line.model, line.quantity) for line in cmd.lines] if cmd.lines else sorted(sold.items())
    )
    for model, qty in lines:
        if model not in sold:
            raise DomainError(
                f"型号{model}不在合同{contract.contract_no}中 (model not in the contract; sold: {', '.join(sold)})"
            )
        if qty > sold[model]:
            raise DomainError(
                f"型号{model}订购{qty}台，超过合同数量{sold[model]}台 (quantity exceeds the contract)"
            )
    count = (
        await session.scalar(
            select(func.count())
            .select_from(OrderRow)
            .where(OrderRow.contract_no == contract.contract_no)
        )
        or 0
    )
    calendar = await _office_calendar(session, contract.calendar, office_calendar)
    entry_due = (
        calendar.add_working_days(contract.signed_at, domain.ORDER_ENTRY_WORKING_DAYS)
        if contract.signed_at
        else None
    )
    row = OrderRow(
        order_no=f"{contract.contract_no}-O{count + 1}",
        contract_no=contract.contract_no,
        contract_version=contract.version,
        customer_id=contract.customer_id,
        customer_name=contract.customer_name,
        lines=[{"model": m, "quantity": q} for m, q in lines],
        delivery_place=cmd.delivery_place,
        status=OrderStatus.ENTERED,
        entered_at=now,
        entered_by=actor.subject,
        entry_due_at=entry_due,
        entered_on_time=None if entry_due is None else now <= entry_due,
        objections=[],
        trainings=[],
    )
    session.add(row)
    await session.flush()
    await audit(
        session,
        actor,
        "order",
        row.order_no,
        "entered",
        now,
        contract_no=row.contract_no,
        version=row.contract_version,
        lines=row.lines,
        on_time=row.entered_on_time,
    )
    return row


async def schedule_shipping(
    session: AsyncSession, order_no: str, cmd: ShippingIn, actor: Principal, now: datetime
) -> OrderRow:
    """Fix the shipping time; DeliveryNotice goes out 24 h before it (moving the date moves the notice)."""
    row = await get_order(session, order_no)
    domain.ensure_order_step(
        row.status,
        order_no,
        [OrderStatus.ENTERED, OrderStatus.SCHEDULED],
        "安排发货 (schedule shipping)",
    )
    if row.notice_sent_at:
        raise Conflict(
            f"订单{order_no}的发货通知已发出，不能再改期 (the customer was already notified of this shipping date)"
        )
    notice_at = domain.delivery_notice_at(cmd.ships_at, now)
    before = row.ships_at
    row.ships_at, row.notice_due_at, row.status = cmd.ships_at, notice_at, OrderStatus.SCHEDULED
    await schedule(session, NOTICE_JOB, order_no, notice_at, {"order_no": order_no})
    await audit(
        session,
        actor,
        "order",
        order_no,
        "shipping_scheduled",
        now,
        ships_at={"from": before, "to": cmd.ships_at},
        notice_due_at=notice_at,
    )
    return row


async def send_delivery_notice(session: AsyncSession, order_no: str, now: datetime) -> None:
    row = await get_order(session, order_no)
    if row.status != OrderStatus.SCHEDULED or row.notice_sent_at:
        return
    contract = await session.scalar(
        select(ContractRow).where(
            ContractRow.contract_no == row.contract_no, ContractRow.version == row.contract_version
        )
    )
    row.notice_sent_at = now
    await enqueue(
        session,
        Envelope(
            data=DeliveryNoticeV1(
                contract_no=row.contract_no,
                order_no=order_no,
                ships_at=row.ships_at,
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                contacts=contract.contacts if contract else [],
                delivery_place=row.delivery_place,
                items=[f"{line['model']} × {line['quantity']}" for line in row.lines],
            ),
            subject=row.contract_no,
        ),
    )
    await audit(
        session, None, "order", order_no, "delivery_notice_sent", now, ships_at=row.ships_at
    )


async def record_receipt(
    session: AsyncSession,
    order_no: str,
    cmd: ReceiptIn,
    actor: Principal,
    now: datetime,
    office_calendar: str = "default",
) -> OrderRow:
    """收货确认单: objections must be answered within 2 h; installation must be booked within 2 working days."""
    row = await get_order(session, order_no)
    domain.ensure_order_step(
        row.status, order_no, [OrderStatus.SCHEDULED], "确认收货 (confirm receipt)"
    )
    if cmd.received_at > now + domain.CLOCK_SKEW:
        raise DomainError("收货时间不能晚于当前时间 (received_at cannot be in the future)")
    if cmd.received_at < row.entered_at:
        raise DomainError("收货时间早于订单录入时间 (received_at is before the order was entered)")
    failed = [
        name for name in ("quantity_ok", "model_ok", "appearance_ok") if not getattr(cmd, name)
    ]
    if failed and not cmd.objections:
        raise DomainError(
            f"检查不合格（{', '.join(failed)}）时须写明异议 (a failed check needs an objection describing it)"
        )
    row.status, row.received_at = OrderStatus.RECEIVED, cmd.received_at
    row.receipt = cmd.model_dump(mode="json", exclude={"objections"}) | {
        "recorded_by": actor.subject
    }
    for i, text in enumerate(cmd.objections, start=1):
        due = cmd.received_at + domain.OBJECTION_ANSWER_WITHIN
        row.objections.append(
            ObjectionRow(objection_no=i, text=text, raised_at=cmd.received_at, answer_due_at=due)
        )
        await schedule(
            session,
            OBJECTION_JOB,
            f"{order_no}/{i}",
            due,
            {"order_no": order_no, "objection_no": i},
        )
    contract = await session.scalar(
        select(ContractRow.calendar).where(ContractRow.contract_no == row.contract_no).limit(1)
    )
    calendar = await _office_calendar(session, contract or "default", office_calendar)
    row.booking_due_at = calendar.add_working_days(
        cmd.received_at, domain.INSTALLATION_BOOKING_WORKING_DAYS
    )
    row.booking_due_provisional = calendar.is_provisional(cmd.received_at, row.booking_due_at)
    await schedule(session, BOOKING_JOB, order_no, row.booking_due_at, {"order_no": order_no})
    await session.flush()
    await audit(
        session,
        actor,
        "order",
        order_no,
        "receipt_confirmed",
        now,
        received_at=cmd.received_at,
        signed_by=cmd.signed_by,
        failed_checks=failed,
        objections=cmd.objections,
        booking_due_at=row.booking_due_at,
    )
    return row


async def answer_objection(
    session: AsyncSession,
    order_no: str,
    objection_no: int,
    cmd: ObjectionAnswerIn,
    actor: Principal,
    now: datetime,
) -> OrderRow:
    row = await get_order(session, order_no)
    objection = next((o for o in row.objections if o.objection_no == objection_no), None)
    if objection is None:
        raise NotFound(f"订单{order_no}没有第{objection_no}条异议 (objection not found)")
    if objection.answered_at:
        raise Conflict(
            f"第{objection_no}条异议已于{objection.answered_at:%Y-%m-%d %H:%M} UTC答复 (already answered)"
        )
    objection.answer, objection.answered_by, objection.answered_at = cmd.answer, actor.subject, now
    objection.answered_on_time = now <= objection.answer_due_at
    await cancel(session, OBJECTION_JOB, f"{order_no}/{objection_no}")
    await audit(
        session,
        actor,
        "order",
        order_no,
        "objection_answered",
        now,
        objection_no=objection_no,
        on_time=objection.answered_on_time,
        answer=cmd.answer,
    )
    return row


async def objection_overdue(
    session: AsyncSession, order_no: str, objection_no: int, now: datetime
) -> None:
    row = await get_order(session, order_no)
    objection = next((o for o in row.objections if o.objection_no == objection_no), None)
    if objection is None or objection.answered_at:
        return
    objection.overdue_at = now
    await enqueue(
        session,
        Envelope(
            data=ObjectionAnswerOverdueV1(
                contract_no=row.contract_no,
                order_no=order_no,
                objection_no=objection_no,
                objection=objection.text,
                raised_at=objection.raised_at,
                due_at=objection.answer_due_at,
            ),
            subject=row.contract_no,
        ),
    )
    await audit(
        session, None, "order", order_no, "objection_answer_overdue", now, objection_no=objection_no
    )


async def book_installation(
    session: AsyncSession, order_no: str, cmd: BookingIn, actor: Principal, now: datetime
) -> OrderRow:
    """The engineer contacts the customer and books a date confirmed at least 3 days ahead."""
    row = await get_order(session, order_no)
    domain.ensure_order_step(
        row.status,
        order_no,
        [OrderStatus.RECEIVED, OrderStatus.INSTALLATION_BOOKED],
        "预约安装 (book installation)",
    )
    contacted = cmd.contacted_at or now
    if contacted > now + domain.CLOCK_SKEW:
        raise DomainError("联系客户时间不能晚于当前时间 (contacted_at cannot be in the future)")
    if row.received_at and contacted < row.received_at:
        raise DomainError("联系客户时间早于收货时间 (contacted_at is before the receipt)")
    domain.check_installation_date(cmd.scheduled_for, contacted)
    first = row.booking is None
    before = row.booking
    row.booking = cmd.model_dump(mode="json") | {
        "contacted_at": contacted.isoformat(),
        "booked_by": actor.subject,
    }
    if first:
        row.booked_on_time = row.booking_due_at is None or contacted <= row.booking_due_at
    row.status = OrderStatus.INSTALLATION_BOOKED
    await cancel(session, BOOKING_JOB, order_no)
    await audit(
        session,
        actor,
        "order",
        order_no,
        "installation_booked" if first else "installation_rebooked",
        now,
        booking={"from": before, "to": row.booking},
        on_time=row.booked_on_time,
    )
    return row


async def booking_overdue(session: AsyncSession, order_no: str, now: datetime) -> None:
    row = await get_order(session, order_no)
    if row.booking is not None or row.booking_due_at is None:
        return
    row.booking_overdue_at = now
    await enqueue(
        session,
        Envelope(
            data=InstallationBookingOverdueV1(
                contract_no=row.contract_no,
                order_no=order_no,
                customer_name=row.customer_name,
                received_at=row.received_at,
                due_at=row.booking_due_at,
                due_provisional=bool(row.booking_due_provisional),
            ),
            subject=row.contract_no,
        ),
    )
    await audit(session, None, "order", order_no, "installation_booking_overdue", now)


async def accept_installation(
    session: AsyncSession, order_no: str, cmd: AcceptanceIn, actor: Principal, now: datetime
) -> OrderRow:
    """安装验收单: every attempt is kept; a passed one completes the installation."""
    row = await get_order(session, order_no)
    domain.ensure_order_step(
        row.status, order_no, [OrderStatus.INSTALLATION_BOOKED], "安装验收 (accept installation)"
    )
    if cmd.accepted_on > today(now):
        raise DomainError("验收日期不能晚于今天 (accepted_on cannot be in the future)")
    record = cmd.model_dump(mode="json") | {
        "recorded_by": actor.subject,
        "recorded_at": now.isoformat(),
    }
    row.acceptance = [*(row.acceptance or []), record]
    if cmd.passed:
        row.status = OrderStatus.INSTALLED
    await audit(
        session,
        actor,
        "order",
        order_no,
        "installation_accepted" if cmd.passed else "installation_not_accepted",
        now,
        record=record,
    )
    return row


async def record_training(
    session: AsyncSession, order_no: str, cmd: TrainingIn, actor: Principal, now: datetime
) -> OrderRow:
    row = await get_order(session, order_no)
    domain.ensure_order_step(
        row.status,
        order_no,
        [OrderStatus.INSTALLATION_BOOKED, OrderStatus.INSTALLED],
        "记录培训 (record training)",
    )
    if cmd.held_at > now:
        raise DomainError("培训尚未举行，签到表只能在培训后登记 (held_at cannot be in the future)")
    row.trainings.append(
        TrainingRow(
            held_at=cmd.held_at,
            trainer=cmd.trainer,
            topics=list(cmd.topics),
            attendees=[a.model_dump() for a in cmd.attendees],
            recorded_by=actor.subject,
            recorded_at=now,
        )
    )
    await session.flush()
    await audit(
        session,
        actor,
        "order",
        order_no,
        "training_recorded",
        now,
        held_at=cmd.held_at,
        trainer=cmd.trainer,
        attendees=len(cmd.attendees),
    )
    return row


async def list_orders(
    session: AsyncSession,
    *,
    contract_no: str | None,
    customer_id: str | None,
    status: str | None,
    entered_from: datetime | None,
    entered_to: datetime | None,
    limit: int,
    offset: int,
):
    query = select(OrderRow)
    for column, value in (
        (OrderRow.contract_no, contract_no),
        (OrderRow.customer_id, customer_id),
        (OrderRow.status, status),
    ):
        if value:
            query = query.where(column == value)
    if entered_from:
        query = query.where(OrderRow.entered_at >= entered_from)
    if entered_to:
        query = query.where(OrderRow.entered_at < entered_to)
    return await page(
        session, query, [OrderRow.entered_at.desc(), OrderRow.order_no], limit, offset
    )
