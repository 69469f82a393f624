"""Customers: registration (credit code checked, duplicates refused), updates, lists."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, NotFound

from .. import domain
from ..models import CustomerRow
from .audit import audit
from .common import changes, page


@dataclass(frozen=True)
class NewCustomer:
    """A customer to register: contacts and addresses as the API validated them (plain dicts)."""

    customer_id: str
    name: str
    credit_code: str
    contacts: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    industry: str | None = None


@dataclass(frozen=True)
class CustomerChanges:
    """The fields a caller set (JSON values); a field given as None clears it where that is
    allowed."""

    values: dict[str, Any]


async def register_customer(
    session: AsyncSession,
    cmd: NewCustomer,
    actor: Principal,
    now: datetime,
    from_lead: str | None = None,
) -> CustomerRow:
    code = domain.validate_credit_code(cmd.credit_code)
    if await session.get(CustomerRow, cmd.customer_id):
        raise Conflict(f"客户编号{cmd.customer_id}已存在 (customer id already exists)")
    await _refuse_duplicate_code(session, code)
    row = CustomerRow(
        customer_id=cmd.customer_id,
        name=cmd.name,
        credit_code=code,
        contacts=[dict(c) for c in cmd.contacts],
        addresses=[dict(a) for a in cmd.addresses],
        industry=cmd.industry,
        owner=actor.subject,
        from_lead=from_lead,
        created_at=now,
        created_by=actor.subject,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await audit(
        session,
        actor,
        "customer",
        row.customer_id,
        "registered",
        now,
        name=row.name,
        credit_code=code,
        from_lead=from_lead,
    )
    return row


async def _refuse_duplicate_code(session: AsyncSession, code: str) -> None:
    other = await session.scalar(select(CustomerRow).where(CustomerRow.credit_code == code))
    if other is not None:
        raise Conflict(
            f"统一社会信用代码{code}已登记为客户{other.customer_id}（{other.name}） (duplicate "
            "customer: credit code "
            f"already registered as {other.customer_id})",
            customer_id=other.customer_id,
        )


async def get_customer(session: AsyncSession, customer_id: str) -> CustomerRow:
    row = await session.get(CustomerRow, customer_id)
    if row is None:
        raise NotFound(f"客户{customer_id}不存在 (customer not found)")
    return row


async def update_customer(
    session: AsyncSession, customer_id: str, cmd: CustomerChanges, actor: Principal, now: datetime
) -> CustomerRow:
    row = await get_customer(session, customer_id)
    new = dict(cmd.values)
    before = {k: getattr(row, k) for k in new}
    for key, value in new.items():
        setattr(row, key, value)
    row.updated_at = now
    await audit(
        session, actor, "customer", customer_id, "updated", now, changes=changes(before, new)
    )
    return row


PHONE_TYPED = re.compile(r"^\+?[0-9][0-9 -]*$")
PHONE_MIN_DIGITS = 5  # fewer could match inside the JSON's \uXXXX escapes of a contact's name


def _matches(q: str) -> list[Any]:
    """What `q` finds: part of the name, the start of the credit code, and — when it is typed
    like a phone number with at least five digits — part of a contact's phone."""
    found = [
        CustomerRow.name.contains(q, autoescape=True),
        CustomerRow.credit_code.startswith(q.upper(), autoescape=True),
    ]
    if PHONE_TYPED.fullmatch(q) and sum(ch.isdigit() for ch in q) >= PHONE_MIN_DIGITS:
        found.append(cast(CustomerRow.contacts, Text).contains(q, autoescape=True))
    return found


async def list_customers(
    session: AsyncSession, *, q: str | None, owner: str | None, limit: int, offset: int
):
    query = select(CustomerRow)
    if q and q.strip():
        query = query.where(or_(*_matches(q.strip())))
    if owner:
        query = query.where(CustomerRow.owner == owner)
    return await page(
        session, query, [CustomerRow.created_at.desc(), CustomerRow.customer_id], limit, offset
    )
