"""After signing: orders, delivery notice, receipt and objections, installation deadlines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from aftersales_shared.errors import Conflict, DomainError

from .contract import CLOCK_SKEW, ContractStatus


class OrderStatus(StrEnum):
    ENTERED = "entered"
    SCHEDULED = "scheduled"  # shipping date fixed, delivery notice pending
    RECEIVED = "received"
    INSTALLATION_BOOKED = "installation_booked"
    INSTALLED = "installed"


NOTICE_BEFORE_SHIPPING = timedelta(hours=24)
OBJECTION_ANSWER_WITHIN = timedelta(hours=2)
INSTALLATION_BOOKING_WORKING_DAYS = 2
INSTALLATION_CONFIRMED_AHEAD = timedelta(days=3)
ORDER_ENTRY_WORKING_DAYS = 1

ORDER_FLOW = [
    OrderStatus.ENTERED,
    OrderStatus.SCHEDULED,
    OrderStatus.RECEIVED,
    OrderStatus.INSTALLATION_BOOKED,
    OrderStatus.INSTALLED,
]


def ensure_contract_orderable(status: str, contract_no: str) -> None:
    if status not in (ContractStatus.SIGNED, ContractStatus.ARCHIVED):
        raise Conflict(
            f"合同{contract_no}尚未签署，不能下单 (orders come from signed contracts; it is "
            f"{status})"
        )


def delivery_notice_at(ships_at: datetime, now: datetime) -> datetime:
    """The customer hears 24 h before shipping; a date closer than that cannot be promised."""
    notice = ships_at - NOTICE_BEFORE_SHIPPING
    if notice < now:
        raise DomainError(
            "发货时间须至少在24小时之后，以便提前通知客户 (ships_at must be at least 24 h "
            f"ahead; earliest {now + NOTICE_BEFORE_SHIPPING:%Y-%m-%d %H:%M} UTC)"
        )
    return notice


def check_received_after_shipping(received_at: datetime, ships_at: datetime | None) -> None:
    """Goods are received after they ship: a receipt dated earlier is a typing error (the client's
    clock may run CLOCK_SKEW ahead of the time the shipping was fixed by)."""
    if ships_at is not None and received_at < ships_at - CLOCK_SKEW:
        got, ships = received_at.astimezone(UTC), ships_at.astimezone(UTC)
        raise DomainError(
            f"收货时间{got:%Y-%m-%d %H:%M} UTC早于发货时间{ships:%Y-%m-%d %H:%M} UTC，"
            "请核对收货确认单上的日期 (received_at is before the goods ship at "
            f"{ships:%Y-%m-%d %H:%M} UTC; check the date on the signed receipt)",
            ships_at=ships.isoformat(),
        )


def ensure_order_step(
    status: str, order_no: str, allowed: Iterable[OrderStatus], action: str
) -> None:
    allowed = list(allowed)
    if status not in allowed:
        raise Conflict(
            f"订单{order_no}状态为{status}，不能{action} (order is {status}; {action} needs "
            f"{', '.join(a.value for a in allowed)})"
        )


def check_installation_date(scheduled_for: datetime, now: datetime) -> None:
    if scheduled_for - now < INSTALLATION_CONFIRMED_AHEAD:
        raise DomainError(
            "安装日期须至少提前3天与客户确认 (installation must be confirmed at least 3 days ahead)"
        )


# ---------------------------------------------------------------- the call after a training
TRAINING_FOLLOW_UP_WORKING_DAYS = 3  # 培训后3个工作日内回访 (seed 001)
TRAINING_FOLLOW_UP_ATTEMPTS = 3  # calls not reaching the customer before it is given up
FOLLOW_UP_NOTE_MAX = 1000


class TrainingFollowUpOutcome(StrEnum):
    """What one follow-up call found."""

    MASTERED = "mastered"  # the customer masters the equipment; open questions answered
    NEEDS_RETRAINING = "needs_retraining"  # another session is needed (delivery arranges it)
    NOT_REACHED = "not_reached"


def follow_up_result(outcome: TrainingFollowUpOutcome, attempts: int) -> str | None:
    """The follow-up's outcome once it ends (None: still open, call again)."""
    if outcome is TrainingFollowUpOutcome.NOT_REACHED:
        return "unreachable" if attempts >= TRAINING_FOLLOW_UP_ATTEMPTS else None
    return outcome.value


def check_follow_up_call(
    outcome: TrainingFollowUpOutcome,
    note: str | None,
    called_at: datetime,
    held_at: datetime,
    now: datetime,
) -> None:
    if called_at > now + CLOCK_SKEW:
        raise DomainError("回访时间不能晚于当前时间 (called_at cannot be in the future)")
    if called_at < held_at:
        raise DomainError("回访时间早于培训时间 (called_at is before the training was held)")
    if outcome is TrainingFollowUpOutcome.NEEDS_RETRAINING and not (note and note.strip()):
        raise DomainError(
            "需再次培训时须写明客户未掌握的内容 (say in `note` what the customer has not mastered)"
        )
    if note and len(note) > FOLLOW_UP_NOTE_MAX:
        raise DomainError(f"回访记录不能超过{FOLLOW_UP_NOTE_MAX}字 (note too long)")
