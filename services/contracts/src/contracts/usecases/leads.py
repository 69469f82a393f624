"""Leads (潜在客户): recorded with a grade that sets the follow-up horizon, regraded, converted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import NotFound

from .. import domain
from ..models import CustomerRow, LeadRow
from .audit import audit
from .common import changes, page, today
from .customers import NewCustomer, register_customer


@dataclass(frozen=True)
class NewLead:
    """A lead as recorded: who, what they need, and the grade that sets the follow-up horizon."""

    company_name: str
    industry: str | None
    contact: dict[str, Any]
    source: str
    need: str
    grade: domain.LeadGrade
    owner: str | None = None  # defaults to the caller


@dataclass(frozen=True)
class LeadChanges:
    """The fields a caller set (JSON values): grade, need, owner, contact, status (dropped)."""

    values: dict[str, Any]


@dataclass(frozen=True)
class LeadConversion:
    """The customer a lead becomes: its id and credit code, optionally another name, addresses."""

    customer_id: str
    credit_code: str
    name: str | None = None
    addresses: list[dict[str, Any]] = field(default_factory=list)


async def create_lead(
    session: AsyncSession, cmd: NewLead, actor: Principal, now: datetime, *, tz: ZoneInfo
) -> LeadRow:
    row = LeadRow(
        lead_id=str(uuid.uuid4()),
        company_name=cmd.company_name,
        industry=cmd.industry,
        contact=dict(cmd.contact),
        source=cmd.source,
        need=cmd.need,
        grade=cmd.grade,
        follow_up_by=domain.lead_follow_up_by(cmd.grade, today(now, tz)),
        owner=cmd.owner or actor.subject,
        status=domain.LeadStatus.OPEN,
        created_at=now,
        created_by=actor.subject,
        updated_at=now,
    )
    session.add(row)
    await audit(
        session,
        actor,
        "lead",
        row.lead_id,
        "created",
        now,
        grade=row.grade,
        owner=row.owner,
        source=row.source,
    )
    return row


async def get_lead(session: AsyncSession, lead_id: str) -> LeadRow:
    row = await session.get(LeadRow, lead_id)
    if row is None:
        raise NotFound(f"线索{lead_id}不存在 (lead not found)")
    return row


async def update_lead(
    session: AsyncSession,
    lead_id: str,
    cmd: LeadChanges,
    actor: Principal,
    now: datetime,
    *,
    tz: ZoneInfo,
) -> LeadRow:
    row = await get_lead(session, lead_id)
    domain.ensure_lead_open(row.status, lead_id)
    new = dict(cmd.values)
    before = {k: getattr(row, k) for k in new}
    for key, value in new.items():
        setattr(row, key, value)
    if "grade" in new:
        row.follow_up_by = domain.lead_follow_up_by(domain.LeadGrade(row.grade), today(now, tz))
    row.updated_at = now
    await audit(session, actor, "lead", lead_id, "updated", now, changes=changes(before, new))
    return row


async def convert_lead(
    session: AsyncSession, lead_id: str, cmd: LeadConversion, actor: Principal, now: datetime
) -> CustomerRow:
    lead = await get_lead(session, lead_id)
    domain.ensure_lead_open(lead.status, lead_id)
    customer = await register_customer(
        session,
        NewCustomer(
            customer_id=cmd.customer_id,
            name=cmd.name or lead.company_name,
            credit_code=cmd.credit_code,
            contacts=[dict(lead.contact)],
            addresses=list(cmd.addresses),
            industry=lead.industry,
        ),
        actor,
        now,
        from_lead=lead_id,
    )
    customer.owner = lead.owner
    lead.status, lead.customer_id, lead.updated_at = (
        domain.LeadStatus.CONVERTED,
        customer.customer_id,
        now,
    )
    await audit(session, actor, "lead", lead_id, "converted", now, customer_id=customer.customer_id)
    return customer


async def list_leads(
    session: AsyncSession,
    *,
    grade: str | None,
    status: str | None,
    owner: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    limit: int,
    offset: int,
):
    query = select(LeadRow)
    for column, value in ((LeadRow.grade, grade), (LeadRow.status, status), (LeadRow.owner, owner)):
        if value:
            query = query.where(column == value)
    if created_from:
        query = query.where(LeadRow.created_at >= created_from)
    if created_to:
        query = query.where(LeadRow.created_at < created_to)
    return await page(session, query, [LeadRow.created_at.desc(), LeadRow.lead_id], limit, offset)
