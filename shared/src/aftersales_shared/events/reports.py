"""Events owned by the reports service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from .base import EventData, event


class ReportHeadline(BaseModel):
    """The few figures a recipient reads in the message itself (the whole company's)."""

    tickets: int = Field(ge=0, description="tickets opened in the month")
    failures: int = Field(ge=0, description="quality_issue and return_exchange tickets")
    failures_per_thousand: float | None = Field(
        default=None, description="failures per 1,000 units in service; None without units"
    )
    resolution_compliance: float | None = Field(
        default=None, description="share of tickets with a resolution deadline not breached"
    )
    satisfaction: float | None = Field(
        default=None, description="mean score of the month's answered surveys (1–5)"
    )
    abnormal_batches: int = Field(ge=0, description="batches flagged abnormal")
    complaints: int = Field(ge=0)
    corrective_actions_overdue: int = Field(ge=0)


class ReportLinks(BaseModel):
    """Where the kept report is read (the reports service's API; the console shows it too)."""

    html: str
    pdf: str
    xlsx: str
    csv: str


@event
class ReportPublishedV1(EventData):
    """The monthly after-sales analysis (售后服务月度分析报告) for a month was generated and kept:
    on the first working day of the next month, or again on demand. Notifications sends it to the
    product, production, sales and management recipient lists."""

    NAME = "ReportPublished"
    VERSION = 1
    PRODUCER = "reports"

    report_id: str = Field(min_length=1, max_length=64)
    month: str = Field(
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM, business time zone"
    )
    version: int = Field(ge=1, description="1 for the month's first publication, then 2, 3…")
    trigger: Literal["scheduled", "on_demand"]
    published_by: str | None = Field(default=None, max_length=200)
    published_at: datetime
    month_complete: bool = Field(description="False when published before the month ended")
    title: str = Field(max_length=200)
    headline: ReportHeadline
    links: ReportLinks
