"""Orders, shipping, receipt and objections, installation booking and acceptance, training."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from aftersales_shared.schemas import In, Out


class OrderLineIn(In):
    model: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0, le=100_000)


class OrderIn(In):
    contract_no: str = Field(min_length=1, max_length=64)
    delivery_place: str = Field(min_length=1, max_length=300)
    lines: list[OrderLineIn] | None = Field(
        default=None, max_length=200, description="defaults to the contract's products"
    )


class ShippingIn(In):
    ships_at: datetime


class ReceiptIn(In):
    received_at: datetime
    signed_by: str = Field(
        min_length=1, max_length=100, description="customer's receiver who signed the 收货确认单"
    )
    quantity_ok: bool
    model_ok: bool
    appearance_ok: bool
    objections: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=20
    )


class ObjectionAnswerIn(In):
    answer: str = Field(min_length=1, max_length=4000)


class BookingIn(In):
    scheduled_for: datetime
    engineer: str = Field(min_length=1, max_length=100)
    contacted_at: datetime | None = Field(
        default=None, description="when the customer was contacted (default now)"
    )
    customer_contact: str | None = Field(default=None, max_length=100)


class AcceptanceIn(In):
    accepted_on: date
    equipment_state: str = Field(min_length=1, max_length=2000)
    customer_remarks: str | None = Field(default=None, max_length=2000)
    accepted_by: str = Field(
        min_length=1, max_length=100, description="customer's signer of the 安装验收单"
    )
    passed: bool = True


class AttendeeIn(In):
    name: str = Field(min_length=1, max_length=100)
    role: str | None = Field(default=None, max_length=100)
    signed: bool = True


class TrainingIn(In):
    held_at: datetime
    trainer: str = Field(min_length=1, max_length=100)
    topics: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=30
    )
    attendees: list[AttendeeIn] = Field(min_length=1, max_length=200)


class ObjectionOut(Out):
    objection_no: int
    text: str
    raised_at: datetime
    answer_due_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    answered_on_time: bool | None
    overdue_at: datetime | None


class FollowUpCallIn(In):
    """One follow-up call after a training (培训后回访)."""

    outcome: Literal["mastered", "needs_retraining", "not_reached"] = Field(
        description=(
            "mastered: the customer masters the equipment, questions answered; "
            "needs_retraining: another session is needed (say what in `note`); "
            "not_reached: call again (given up after 3 calls)"
        )
    )
    note: str | None = Field(default=None, max_length=1000)
    called_at: datetime | None = Field(default=None, description="when; now when not given")


class TrainingOut(Out):
    id: int
    order_no: str
    held_at: datetime
    trainer: str
    topics: list[str]
    attendees: list[dict]
    recorded_by: str
    recorded_at: datetime
    follow_up_due_at: datetime | None = Field(description="the follow-up call is due by then")
    follow_up_due_provisional: bool
    follow_up_calls: list[dict] = Field(description="[{at, by, outcome, note}] oldest first")
    follow_up_outcome: str | None = Field(description="mastered, needs_retraining, unreachable")
    follow_up_at: datetime | None
    follow_up_by: str | None
    follow_up_overdue_at: datetime | None


class OrderOut(Out):
    order_no: str
    contract_no: str
    contract_version: int
    customer_id: str
    customer_name: str
    lines: list[dict]
    delivery_place: str
    status: str
    entered_at: datetime
    entered_by: str
    entry_due_at: datetime | None
    entered_on_time: bool | None
    ships_at: datetime | None
    notice_due_at: datetime | None
    notice_sent_at: datetime | None
    received_at: datetime | None
    receipt: dict | None
    booking_due_at: datetime | None
    booking_due_provisional: bool | None
    booking: dict | None
    booked_on_time: bool | None
    booking_overdue_at: datetime | None
    acceptance: list[dict] | None
    objections: list[ObjectionOut]
    trainings: list[TrainingOut]
