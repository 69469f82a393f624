"""Installation: booked within 2 working days of receipt, accepted (安装验收单) on site."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import DomainError
from aftersales_shared.events import Envelope
from aftersales_shared.events.contracts import InstallationBookingOverdueV1
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel

from .. import domain
from ..domain import OrderStatus
from ..models import OrderRow
from .audit import audit
from .common import today
from .orders import get_order


@dataclass(frozen=True)
class Booking:
    """An installation date agreed with the customer; contacted_at defaults to now."""

    scheduled_for: datetime
    engineer: str
    contacted_at: datetime | None = None
    customer_contact: str | None = None


@dataclass(frozen=True)
class Acceptance:
    """One installation acceptance attempt (安装验收单); a passed one completes installation."""

    accepted_on: date
    equipment_state: str
    customer_remarks: str | None
    accepted_by: str
    passed: bool = True


BOOKING_JOB = "contracts.installation_booking_due"


async def book_installation(
    session: AsyncSession, order_no: str, cmd: Booking, actor: Principal, now: datetime
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
    row.booking = to_jsonable_python(asdict(cmd)) | {
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
    session: AsyncSession,
    order_no: str,
    cmd: Acceptance,
    actor: Principal,
    now: datetime,
    *,
    tz: ZoneInfo,
) -> OrderRow:
    """安装验收单: every attempt is kept; a passed one completes the installation."""
    row = await get_order(session, order_no)
    domain.ensure_order_step(
        row.status, order_no, [OrderStatus.INSTALLATION_BOOKED], "安装验收 (accept installation)"
    )
    if cmd.accepted_on > today(now, tz):
        raise DomainError("验收日期不能晚于今天 (accepted_on cannot be in the future)")
    record = to_jsonable_python(asdict(cmd)) | {
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
