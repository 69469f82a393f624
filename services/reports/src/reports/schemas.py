"""HTTP answers of the reports service (never reused as event payloads)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from aftersales_shared.schemas import Out


class TicketOut(Out):
    """A ticket behind a figure, as the read model knows it."""

    ticket_id: str
    ticket_no: str
    opened_at: datetime | None
    completed_at: datetime | None
    channel: str | None
    request_type: str | None
    urgency: str | None
    product_model: str | None
    product_line: str | None
    serial_no: str | None
    batch_no: str | None
    dealer_id: str | None
    engineer_id: str | None
    cause_category: str | None
    failed_part: str | None


class PublishedOut(Out):
    """A month's report as it was published (ReportPublished)."""

    report_id: str
    month: str
    version: int
    trigger: str = Field(description="scheduled | on_demand")
    published_by: str | None
    published_at: datetime
    month_complete: bool


class PublishedReportOut(PublishedOut):
    """A published report with its figures as they were sent."""

    report: dict[str, Any]

    @field_validator("report", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value
