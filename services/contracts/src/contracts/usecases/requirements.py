"""Requirement confirmation forms (客户需求确认单): drafted, confirmed by the customer, final."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, NotFound

from .. import domain
from ..models import RequirementRow
from .audit import audit
from .common import page
from .customers import get_customer


@dataclass(frozen=True)
class NewRequirement:
    """A requirement confirmation form (客户需求确认单): lines and terms as JSON values."""

    requirement_no: str
    customer_id: str
    lines: list[dict[str, Any]]
    delivery_date: date
    delivery_place: str
    quality_standard: str
    payment_terms: str


@dataclass(frozen=True)
class Confirmation:
    """Who confirmed the form for the customer, and how (signature, seal, e-signature)."""

    confirmed_by: str
    method: str = "signature"


async def create_requirement(
    session: AsyncSession, cmd: NewRequirement, actor: Principal, now: datetime
) -> RequirementRow:
    await get_customer(session, cmd.customer_id)
    if await session.get(RequirementRow, cmd.requirement_no):
        raise Conflict(
            f"需求确认单{cmd.requirement_no}已存在 (requirement form number already exists)"
        )
    row = RequirementRow(
        **{k: v for k, v in asdict(cmd).items() if k != "delivery_date"},
        delivery_date=cmd.delivery_date,
        status="draft",
        created_at=now,
        created_by=actor.subject,
    )
    session.add(row)
    await audit(
        session,
        actor,
        "requirement",
        row.requirement_no,
        "created",
        now,
        customer_id=row.customer_id,
    )
    return row


async def get_requirement(session: AsyncSession, no: str) -> RequirementRow:
    row = await session.get(RequirementRow, no)
    if row is None:
        raise NotFound(f"需求确认单{no}不存在 (requirement form not found)")
    return row


async def confirmed_requirement(session: AsyncSession, no: str, customer_id: str) -> RequirementRow:
    """The requirement form a quote or a contract rests on: this customer's, confirmed by them."""
    row = await get_requirement(session, no)
    domain.ensure_requirement_confirmed(row.status, no)
    if row.customer_id != customer_id:
        raise DomainError(
            f"需求确认单{no}属于其他客户 (requirement form belongs to another customer)"
        )
    return row


async def confirm_requirement(
    session: AsyncSession, no: str, cmd: Confirmation, actor: Principal, now: datetime
) -> RequirementRow:
    row = await get_requirement(session, no)
    domain.ensure_requirement_editable(row.status, no)
    row.status, row.confirmed_by, row.confirmed_at, row.confirmation_method = (
        "confirmed",
        cmd.confirmed_by,
        now,
        cmd.method,
    )
    await audit(
        session,
        actor,
        "requirement",
        no,
        "confirmed_by_customer",
        now,
        confirmed_by=cmd.confirmed_by,
        method=cmd.method,
    )
    return row


async def list_requirements(
    session: AsyncSession, *, customer_id: str | None, status: str | None, limit: int, offset: int
):
    query = select(RequirementRow)
    if customer_id:
        query = query.where(RequirementRow.customer_id == customer_id)
    if status:
        query = query.where(RequirementRow.status == status)
    return await page(session, query, [RequirementRow.created_at.desc()], limit, offset)
