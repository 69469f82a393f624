"""The month's window and the filters (which dealers they leave), the read model's tables and
the names every part of the report shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import one_of

from ...domain import Month, Policy
from ...models import (
    CorrectiveActionFact,
    CorrectiveActionStepFact,
    DealerFact,
    FollowUpFact,
    SurveyFact,
    TicketEventFact,
    TicketFact,
    UnitFact,
    WarrantyFact,
)

T = TicketFact.__table__
U = UnitFact.__table__
E = TicketEventFact.__table__
S = SurveyFact.__table__
F = FollowUpFact.__table__
A = CorrectiveActionFact.__table__
STEPS = CorrectiveActionStepFact.__table__
W = WarrantyFact.__table__
D = DealerFact.__table__
UNKNOWN = "未知"
CLOCKS = ("acknowledge", "response", "onsite", "resolution")
DEADLINE_OF = {
    "acknowledge": "acknowledge_due",
    "response": "response_due",
    "resolution": "resolution_due",
}
DIMENSIONS = ("efficiency", "attitude", "professionalism")
SLA_KINDS = ("sla_warning", "sla_breached", "sla_escalated")
COMPLAINT_KINDS = ("complaint_overdue", "complaint_escalated")


@dataclass(frozen=True)
class Filters:
    product_line: str | None = None
    region: str | None = None
    dealer_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "product_line": self.product_line,
            "region": self.region,
            "dealer_id": self.dealer_id,
        }


@dataclass
class Scope:
    """The month's window and which dealers the filters leave (None: every dealer)."""

    month: Month
    start: datetime
    end: datetime
    filters: Filters
    dealers: list[str] | None

    def ticket_where(self, session: AsyncSession, table: Any = T) -> list[Any]:
        conds = []
        if self.dealers is not None:
            conds.append(one_of(session, table.c.dealer_id, self.dealers))
        if self.filters.product_line:
            conds.append(table.c.product_line == self.filters.product_line)
        return conds


async def scope_of(session: AsyncSession, month: Month, filters: Filters, policy: Policy) -> Scope:
    start, end = month.bounds(policy.timezone)
    dealers: list[str] | None = None
    if filters.region:
        dealers = list(
            await session.scalars(select(D.c.dealer_id).where(D.c.region == filters.region))
        )
    if filters.dealer_id:
        dealers = [filters.dealer_id] if dealers is None or filters.dealer_id in dealers else []
    return Scope(month, start, end, filters, dealers)
