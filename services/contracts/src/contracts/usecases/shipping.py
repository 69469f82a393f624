"""Shipping: the date fixed, DeliveryNotice 24 h before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict
from aftersales_shared.events import DeliveryNoticeV1, Envelope
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import schedule

from .. import domain
from ..domain import OrderStatus
from ..models import ContractRow, OrderRow
from .audit import audit
from .orders import get_order


@dataclass(frozen=True)
class Shipping:
    """When the goods ship (at least 24 h ahead: the customer is told 24 h before)."""

    ships_at: datetime


NOTICE_JOB = "contracts.delivery_notice"


async def schedule_shipping(
    session: AsyncSession, order_no: str, cmd: Shipping, actor: Principal, now: datetime
) -> OrderRow:
    """Fix the shipping time; DeliveryNotice goes out 24 h before it (moving the date moves the
    notice)."""
    row = await get_order(session, order_no)
    domain.ensure_order_step(
        row.status,
        order_no,
        [OrderStatus.ENTERED, OrderStatus.SCHEDULED],
        "安排发货 (schedule shipping)",
    )
    if row.notice_sent_at:
        raise Conflict(
            f"订单{order_no}的发货通知已发出，不能再改期 (the customer was already notified of "
            "this shipping date)"
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
