"""A ticket's work: progress entries (parts, fees), their attachments, completion."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, Field

from aftersales_shared.schemas import In, Out

from .faults import FaultIn


class PartIn(In):
    name: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0, le=10000)


class FeeIn(In):
    kind: Literal["repair", "travel", "labour", "parts"]
    amount: Decimal = Field(ge=0, le=Decimal("10000000"), decimal_places=2, description="CNY")


class ProgressIn(In):
    kind: Literal["action", "milestone", "note", "parts", "fee"]
    text: str = Field(min_length=1, max_length=4000)
    visibility: Literal["internal", "customer"] = "internal"
    parts: list[PartIn] = Field(default_factory=list, max_length=50)
    fee: FeeIn | None = None


class CompleteIn(In):
    document: Literal["repair_sheet", "complaint_confirmation", "answer_confirmation"]
    confirmed_by: str = Field(min_length=1, max_length=100)
    confirmed_at: AwareDatetime
    method: Literal["signature", "phone", "sms", "online"]
    remarks: str | None = Field(default=None, max_length=2000)
    fault: FaultIn | None = Field(
        default=None,
        description="required to complete a quality_issue (repair) or complaint ticket",
    )


class AttachmentOut(Out):
    """A file kept with a ticket (an e-mail's attachment); its bytes at `…/attachments/{id}`."""

    id: int
    progress_id: int | None = Field(description="the progress entry it came with, if any")
    filename: str
    content_type: str
    size: int
    source: str
    created_at: datetime


class ProgressOut(Out):
    id: int
    at: datetime
    author: str
    kind: str
    text: str
    visibility: str
    parts: list[dict]
    fee_kind: str | None
    fee_amount: Decimal | None
    attachments: list[AttachmentOut] = Field(
        default_factory=list,
        description="files that came with this entry (an e-mail's attachments)",
    )


class CompletionOut(Out):
    document: str
    confirmed_by: str
    confirmed_at: datetime
    method: str
    remarks: str | None
