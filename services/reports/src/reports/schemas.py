"""HTTP answers of the reports service (never reused as event payloads)."""

from __future__ import annotations

from datetime import datetime

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
