"""Drafting a contract: a new draft (customer registered or matched) and edits of its terms."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError

from .. import domain
from ..models import ContractRow, CustomerRow, ProductRow
from .audit import audit
from .common import today
from .contracts import document_content, ensure_owner, get_contract, store_state, to_domain
from .customers import NewCustomer, get_customer, register_customer
from .quotes import get_quote
from .requirements import confirmed_requirement

DRAFT_CONTENT = frozenset(
    {
        "products",
        "service_levels",
        "terms",
        "calendar",
        "dealer_id",
        "sales_rep",
        "quote_no",
        "requirement_no",
    }
)


@dataclass(frozen=True)
class DraftContent:
    """The editable terms of a draft. `given` names the fields the caller stated: a new draft states
    them all, an edit only those it changes (a stated None clears dealer, quote, requirement
    form)."""

    given: frozenset[str]
    products: list[dict[str, Any]] | None = None  # model, serial_no, warranty_end
    service_levels: list[domain.ServiceLevel] | None = None
    terms: dict[str, Any] | None = None  # the service terms, JSON values
    calendar: str | None = None
    dealer_id: str | None = None
    sales_rep: str | None = None
    quote_no: str | None = None
    requirement_no: str | None = None


@dataclass(frozen=True)
class NewDraft:
    """A new contract draft: its customer registered (or matched) from `customer`, or named by
    `customer_id` (exactly one of them), and its content."""

    contract_no: str
    customer: NewCustomer | None
    customer_id: str | None
    content: DraftContent


async def create_draft(
    session: AsyncSession, cmd: NewDraft, actor: Principal, now: datetime, *, tz: ZoneInfo
) -> ContractRow:
    if await session.scalar(
        select(ContractRow.id).where(ContractRow.contract_no == cmd.contract_no).limit(1)
    ):
        raise Conflict(f"合同编号{cmd.contract_no}已存在 (contract number already exists)")
    customer = await _customer_for_draft(session, cmd, actor, now)
    row = ContractRow(
        id=str(uuid.uuid4()),
        contract_no=cmd.contract_no,
        version=1,
        is_latest=True,
        status=domain.ContractStatus.DRAFT,
        review_round=0,
        customer_id=customer.customer_id,
        customer_name=customer.name,
        credit_code=customer.credit_code,
        contacts=[dict(c) for c in cmd.customer.contacts]
        if cmd.customer and cmd.customer.contacts
        else customer.contacts,
        calendar=cmd.content.calendar,
        dealer_id=cmd.content.dealer_id,
        sales_rep=cmd.content.sales_rep or actor.subject,
        created_at=now,
        created_by=actor.subject,
        updated_at=now,
        products=[],
        signatures=[],
        sign_offs=[],
    )
    await _apply_terms(session, row, cmd.content, now, tz)
    session.add(row)
    await audit(
        session,
        actor,
        "contract",
        row.contract_no,
        "drafted",
        now,
        version=1,
        customer_id=row.customer_id,
        document_sha256=row.document_sha256,
    )
    return row


async def _customer_for_draft(
    session: AsyncSession, cmd: NewDraft, actor: Principal, now: datetime
) -> CustomerRow:
    """A registered customer by id, or the inline one: matched by id and credit code, else
    registered."""
    if cmd.customer_id is not None or cmd.customer is None:
        return await get_customer(session, cmd.customer_id or "")
    code = domain.validate_credit_code(cmd.customer.credit_code)
    existing = await session.get(CustomerRow, cmd.customer.customer_id)
    if existing is None:
        return await register_customer(session, cmd.customer, actor, now)
    if existing.credit_code != code:
        raise Conflict(
            f"客户{existing.customer_id}已登记，信用代码为{existing.credit_code}，与{code}不符 "
            "(customer id exists with another credit code)"
        )
    return existing


async def _apply_terms(
    session: AsyncSession,
    row: ContractRow,
    cmd: DraftContent,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """Validate and write the editable terms of a draft, then rehash its document."""
    fields = cmd.given
    if "service_levels" in fields and cmd.service_levels is not None:
        levels = domain.service_levels_with_overrides(list(cmd.service_levels))
        row.service_levels = [to_jsonable_python(asdict(level)) for level in levels]
    if "terms" in fields and cmd.terms is not None:
        row.terms = dict(cmd.terms)
    levels = [
        domain.ServiceLevel(**{**s, "urgency": domain.Urgency(s["urgency"])})
        for s in row.service_levels
    ]
    domain.check_terms(row.terms or {}, levels)
    if "products" in fields and cmd.products is not None:
        serials = [p["serial_no"] for p in cmd.products]
        dupes = domain.duplicates(serials)
        if dupes:
            raise DomainError(f"序列号重复: {', '.join(dupes)} (serial numbers listed twice)")
        taken = (
            await session.scalars(
                select(ProductRow.serial_no)
                .join(ContractRow)
                .where(
                    ProductRow.serial_no.in_(serials), ContractRow.contract_no != row.contract_no
                )
            )
        ).all()
        if taken:
            raise Conflict(
                f"序列号已属于其他合同: {', '.join(sorted(set(taken)))} (serial numbers already "
                "sold)"
            )
        row.products = [ProductRow(**p) for p in cmd.products]
    for name in ("calendar", "dealer_id", "sales_rep"):
        value = getattr(cmd, name)
        if name in fields and (value is not None or name == "dealer_id"):
            setattr(row, name, value)
    if "quote_no" in fields:
        if cmd.quote_no:
            quote = await get_quote(session, cmd.quote_no)
            domain.ensure_quote_usable(
                quote.status, quote.valid_until, quote.quote_no, today(now, tz)
            )
            if quote.customer_id != row.customer_id:
                raise DomainError(
                    f"报价单{quote.quote_no}属于其他客户 (quote belongs to another customer)"
                )
        row.quote_no = cmd.quote_no
    if "requirement_no" in fields:
        if cmd.requirement_no:
            await confirmed_requirement(session, cmd.requirement_no, row.customer_id)
        row.requirement_no = cmd.requirement_no
    row.document_sha256 = domain.document_hash(document_content(row))


async def edit_draft(
    session: AsyncSession,
    contract_no: str,
    cmd: DraftContent,
    actor: Principal,
    now: datetime,
    *,
    tz: ZoneInfo,
) -> ContractRow:
    row = await get_contract(session, contract_no)
    ensure_owner(row, actor)
    contract = to_domain(row)
    before_hash, before_status = row.document_sha256, row.status
    voided = contract.edit()
    store_state(row, contract)
    await _apply_terms(session, row, cmd, now, tz)
    row.updated_at = now
    await session.flush()
    await audit(
        session,
        actor,
        "contract",
        contract_no,
        "edited",
        now,
        version=row.version,
        fields=sorted(cmd.given),
        sign_offs_voided=voided,
        status_before=before_status,
        document_sha256={"from": before_hash, "to": row.document_sha256},
    )
    return row
