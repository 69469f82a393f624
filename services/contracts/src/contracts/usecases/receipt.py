"""Receipt (收货确认单) and objections: each answered within 2 h, else ObjectionAnswerOverdue."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import Envelope
from aftersales_shared.events.contracts import ObjectionAnswerOverdueV1
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule

from .. import domain
from ..domain import OrderStatus
from ..models import ObjectionRow, OrderRow
from .audit import audit
from .installation import BOOKING_JOB
from .orders import get_order, order_calendar


@dataclass(frozen=True)
class Receipt:
    """The customer's receipt (收货确认单): who signed, the three checks, objections raised."""

    received_at: datetime
    signed_by: str
    quantity_ok: bool
    model_ok: bool
    appearance_ok: bool
    objections: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ObjectionAnswer:
    answer: str


OBJECTION_JOB = "contracts.objection_answer_due"


async def record_receipt(
    session: AsyncSession,
    order_no: str,
    cmd: Receipt,
    actor: Principal,
    now: datetime,
    office_calendar: str = "default",
) -> OrderRow:
    """收货确认单: objections must be answered within 2 h; installation must be booked within 2
    working days."""
    row = await get_order(session, order_no)
    domain.ensure_order_step(
        row.status, order_no, [OrderStatus.SCHEDULED], "确认收货 (confirm receipt)"
    )
    if cmd.received_at > now + domain.CLOCK_SKEW:
        raise DomainError("收货时间不能晚于当前时间 (received_at cannot be in the future)")
    if cmd.received_at < row.entered_at:
        raise DomainError("收货时间早于订单录入时间 (received_at is before the order was entered)")
    domain.check_received_after_shipping(cmd.received_at, row.ships_at)
    failed = [
        name for name in ("quantity_ok", "model_ok", "appearance_ok") if not getattr(cmd, name)
    ]
    if failed and not cmd.objections:
        raise DomainError(
            f"检查不合格（{', '.join(failed)}）时须写明异议 (a failed check needs an objection "
            "describing it)"
        )
    row.status, row.received_at = OrderStatus.RECEIVED, cmd.received_at
    row.receipt = to_jsonable_python(
        {k: v for k, v in asdict(cmd).items() if k != "objections"}
    ) | {"recorded_by": actor.subject}
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
    calendar = await order_calendar(session, row, office_calendar)
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
    cmd: ObjectionAnswer,
    actor: Principal,
    now: datetime,
) -> OrderRow:
    row = await get_order(session, order_no)
    objection = next((o for o in row.objections if o.objection_no == objection_no), None)
    if objection is None:
        raise NotFound(f"订单{order_no}没有第{objection_no}条异议 (objection not found)")
    if objection.answered_at:
        raise Conflict(
            f"第{objection_no}条异议已于{objection.answered_at:%Y-%m-%d %H:%M} UTC答复 (already "
            "answered)"
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
