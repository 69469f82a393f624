"""Training: a session recorded with its sign-in sheet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import DomainError

from .. import domain
from ..domain import OrderStatus
from ..models import OrderRow, TrainingRow
from .audit import audit
from .orders import get_order


@dataclass(frozen=True)
class Training:
    """A training session with its sign-in sheet (attendees: name, role, signed)."""

    held_at: datetime
    trainer: str
    topics: list[str]
    attendees: list[dict[str, Any]]


async def record_training(
    session: AsyncSession, order_no: str, cmd: Training, actor: Principal, now: datetime
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
            attendees=[dict(a) for a in cmd.attendees],
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
