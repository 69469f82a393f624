"""Helpers every use case shares: a page of a query, the changes of an update, today in business
time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_shared.db import paged as page  # noqa: F401 (the services' one pager)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: {"from": before.get(k), "to": v} for k, v in after.items() if before.get(k) != v}


def today(now: datetime, tz: ZoneInfo) -> date:
    """The calendar day it is in the business time zone (settings.business_timezone)."""
    return now.astimezone(tz).date()
