"""What every use case of the dealers service shares: who acts (Ctx), isolation, paging, audit.

Isolation: every function that reads or changes a dealer's records takes `scope` (the dealer a
dealer user is confined to, None for company staff). Another dealer's record answers exactly like a
missing one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, dealer_scope
from aftersales_shared.db import CLOCK_SKEW, upsert_insert
from aftersales_shared.db import paged as page_of  # noqa: F401 (re-exported: the services' one pager)
from aftersales_shared.errors import Conflict, DomainError, NotFound

from .. import domain as d
from ..models import AuditRow, DealerRow, MeasurementRow
from ..settings import DealersSettings

# scheduler job kinds
CARD_REMINDER = "dealers.card_reminder"
CARD_OVERDUE = "dealers.card_overdue"
ARRANGE_DUE = "dealers.repair_arrange_due"
RETURN_DUE = "dealers.parts_return_due"
PLAN_DUE = "dealers.stock_plan_due"

# measurement kinds
LATE_CARD, LATE_RETURN, LATE_ARRANGEMENT = "late_card", "late_return", "late_arrangement"
SLA_BREACH, MISSING_PLAN, TICKET, COMPLETION, SURVEY = (
    "sla_breach",
    "missing_stock_plan",
    "ticket_opened",
    "service_completed",
    "survey",
)

Row = TypeVar("Row")


@dataclass(frozen=True)
class Ctx:
    """Who acts, when, with which settings."""

    actor: Principal
    now: datetime
    cfg: DealersSettings

    @property
    def scope(self) -> str | None:
        return dealer_scope(self.actor)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.cfg.business_timezone)

    @property
    def today(self) -> date:
        return d.local_date(self.now, self.tz)

    @property
    def who(self) -> str:
        return self.actor.subject


# ------------------------------------------------------------------ helpers
def not_found(what: str, key: object) -> NotFound:
    return NotFound(f"{what}{key}不存在 ({what} {key} not found)")


async def owned(
    session: AsyncSession,
    model: type[Row],
    key: object,
    scope: str | None,
    what: str,
    lock: bool = False,
) -> Row:
    """The row, if it exists and the caller may see it; otherwise 404 (existence is not leaked)."""
    row = await session.get(model, key, with_for_update=lock or None)
    if row is None or (scope is not None and row.dealer_id != scope):
        raise not_found(what, key)
    return row


def scoped(query: Select[Any], model: Any, scope: str | None) -> Select[Any]:
    return query.where(model.dealer_id == scope) if scope is not None else query


async def acting_dealer(session: AsyncSession, ctx: Ctx, requested: str | None) -> DealerRow:
    """The dealer a command acts for: a dealer user's own; staff must name one."""
    scope = ctx.scope
    if scope is not None:
        if requested not in (None, scope):
            raise not_found("经销商", requested)
        requested = scope
    if not requested:
        raise DomainError("请指定经销商 dealer_id (dealer_id is required)")
    return await owned(session, DealerRow, requested, scope, "经销商")


def _insert(session: AsyncSession) -> Any:
    return lambda table: upsert_insert(session, table)


async def measure(
    session: AsyncSession,
    dealer_id: str,
    kind: str,
    ref: str,
    at: datetime,
    score: Decimal | None = None,
    detail: str | None = None,
) -> None:
    """Record a fact about a dealer's service once (redelivered events and re-fired jobs change
    nothing)."""
    stmt = (
        _insert(session)(MeasurementRow)
        .values(dealer_id=dealer_id, kind=kind, ref=ref, occurred_at=at, score=score, detail=detail)
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)


def jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(detail, default=str, ensure_ascii=False))


async def audit(
    session: AsyncSession,
    ctx: Ctx | None,
    dealer_id: str | None,
    entity: str,
    entity_id: str,
    action: str,
    /,
    actor: str | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditRow(
            dealer_id=dealer_id,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            actor=actor or (ctx.who if ctx else "system"),
            at=at or (ctx.now if ctx else datetime.now(tz=ZoneInfo("UTC"))),
            detail=jsonable(detail),
        )
    )


async def flush(session: AsyncSession, conflict: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


def not_future(at: datetime, ctx: Ctx, what: str) -> None:
    if at > ctx.now + CLOCK_SKEW:
        raise DomainError(f"{what}不能晚于当前时间 ({what} cannot be in the future)")


def number(prefix: str, ctx: Ctx) -> str:
    return f"{prefix}-{ctx.today:%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"
