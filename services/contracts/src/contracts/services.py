"""Use cases of the contracts service (sales side): one function per thing a user does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic_core import to_jsonable_python
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role
from aftersales_shared.calendars import ALWAYS_OPEN, load_calendar
from aftersales_shared.errors import Conflict, DomainError, Forbidden, NotFound
from aftersales_shared.events import ContractArchivedV1, ContractSignedV1, Envelope
from aftersales_shared.events.contracts import EntitlementTerms
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule

from . import domain
from .models import (
    AuditRow,
    ContractRow,
    CustomerRow,
    LeadRow,
    ProductRow,
    QuoteRow,
    RequirementRow,
    SignatureRow,
    SignOffRow,
)
from .schemas import (
    AmendmentIn,
    ArchiveIn,
    ContractDraftIn,
    ContractPatch,
    CustomerIn,
    CustomerPatch,
    LeadConvertIn,
    LeadIn,
    LeadPatch,
    QuoteDecisionIn,
    QuoteIn,
    RequirementConfirmIn,
    RequirementIn,
    SignIn,
    SignOffIn,
)

ARCHIVE_JOB = "contracts.archive_due"
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
R = TypeVar("R")


# ---------------------------------------------------------------- audit and lists
async def audit(
    session: AsyncSession,
    actor: Principal | None,
    entity: str,
    key: str,
    action: str,
    now: datetime,
    **detail: Any,
) -> None:
    """Append who did what to which record (the system itself acts as 'system')."""
    session.add(
        AuditRow(
            entity=entity,
            entity_key=key,
            action=action,
            at=now,
            actor=actor.subject if actor else "system",
            actor_roles=sorted(r.value for r in actor.roles) if actor else [],
            detail=to_jsonable_python(detail),
        )
    )


async def page(
    session: AsyncSession, query: Select[Any], order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    total = (
        await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    rows = (await session.scalars(query.order_by(*order_by).limit(limit).offset(offset))).all()
    return list(rows), total


async def list_audit(
    session: AsyncSession,
    *,
    entity: str | None,
    key: str | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditRow], int]:
    q = select(AuditRow)
    for column, value in (
        (AuditRow.entity, entity),
        (AuditRow.entity_key, key),
        (AuditRow.actor, actor),
    ):
        if value:
            q = q.where(column == value)
    if since:
        q = q.where(AuditRow.at >= since)
    if until:
        q = q.where(AuditRow.at < until)
    return await page(session, q, [AuditRow.id], limit, offset)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: {"from": before.get(k), "to": v} for k, v in after.items() if before.get(k) != v}


def _is_manager(actor: Principal) -> bool:
    return actor.has(Role.SALES_MANAGER)


# ---------------------------------------------------------------- customers
async def register_customer(
    session: AsyncSession,
    cmd: CustomerIn,
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
        contacts=[c.model_dump() for c in cmd.contacts],
        addresses=[a.model_dump() for a in cmd.addresses],
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
            f"统一社会信用代码{code}已登记为客户{other.customer_id}（{other.name}） (duplicate customer: credit code "
            f"already registered as {other.customer_id})",
            customer_id=other.customer_id,
        )


async def get_customer(session: AsyncSession, customer_id: str) -> CustomerRow:
    row = await session.get(CustomerRow, customer_id)
    if row is None:
        raise NotFound(f"客户{customer_id}不存在 (customer not found)")
    return row


async def update_customer(
    session: AsyncSession, customer_id: str, cmd: CustomerPatch, actor: Principal, now: datetime
) -> CustomerRow:
    row = await get_customer(session, customer_id)
    new = cmd.model_dump(exclude_unset=True, mode="json")
    before = {k: getattr(row, k) for k in new}
    for key, value in new.items():
        setattr(row, key, value)
    row.updated_at = now
    await audit(
        session, actor, "customer", customer_id, "updated", now, changes=_changes(before, new)
    )
    return row


async def list_customers(
    session: AsyncSession, *, q: str | None, owner: str | None, limit: int, offset: int
):
    query = select(CustomerRow)
    if q:
        query = query.where(CustomerRow.name.contains(q) | (CustomerRow.credit_code == q.upper()))
    if owner:
        query = query.where(CustomerRow.owner == owner)
    return await page(
        session, query, [CustomerRow.created_at.desc(), CustomerRow.customer_id], limit, offset
    )


# ---------------------------------------------------------------- leads
async def create_lead(
    session: AsyncSession, cmd: LeadIn, actor: Principal, now: datetime
) -> LeadRow:
    row = LeadRow(
        lead_id=str(uuid.uuid4()),
        company_name=cmd.company_name,
        industry=cmd.industry,
        contact=cmd.contact.model_dump(),
        source=cmd.source,
        need=cmd.need,
        grade=cmd.grade,
        follow_up_by=domain.lead_follow_up_by(cmd.grade, now.astimezone(BUSINESS_TZ).date()),
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
    session: AsyncSession, lead_id: str, cmd: LeadPatch, actor: Principal, now: datetime
) -> LeadRow:
    row = await get_lead(session, lead_id)
    domain.ensure_lead_open(row.status, lead_id)
    new = cmd.model_dump(exclude_unset=True, mode="json")
    before = {k: getattr(row, k) for k in new}
    for key, value in new.items():
        setattr(row, key, value)
    if "grade" in new:
        row.follow_up_by = domain.lead_follow_up_by(
            domain.LeadGrade(row.grade), now.astimezone(BUSINESS_TZ).date()
        )
    row.updated_at = now
    await audit(session, actor, "lead", lead_id, "updated", now, changes=_changes(before, new))
    return row


async def convert_lead(
    session: AsyncSession, lead_id: str, cmd: LeadConvertIn, actor: Principal, now: datetime
) -> CustomerRow:
    lead = await get_lead(session, lead_id)
    domain.ensure_lead_open(lead.status, lead_id)
    customer = await register_customer(
        session,
        CustomerIn(
            customer_id=cmd.customer_id,
            name=cmd.name or lead.company_name,
            credit_code=cmd.credit_code,
            contacts=[lead.contact],
            addresses=cmd.addresses,
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


# ---------------------------------------------------------------- requirement forms
async def create_requirement(
    session: AsyncSession, cmd: RequirementIn, actor: Principal, now: datetime
) -> RequirementRow:
    await get_customer(session, cmd.customer_id)
    if await session.get(RequirementRow, cmd.requirement_no):
        raise Conflict(
            f"需求确认单{cmd.requirement_no}已存在 (requirement form number already exists)"
        )
    row = RequirementRow(
        **cmd.model_dump(mode="json", exclude={"delivery_date"}),
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


async def confirm_requirement(
    session: AsyncSession, no: str, cmd: RequirementConfirmIn, actor: Principal, now: datetime
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


# ---------------------------------------------------------------- quotes
async def create_quote(
    session: AsyncSession, cmd: QuoteIn, actor: Principal, now: datetime, discount_limit: Decimal
) -> QuoteRow:
    await get_customer(session, cmd.customer_id)
    if cmd.requirement_no:
        req = await get_requirement(session, cmd.requirement_no)
        if req.customer_id != cmd.customer_id:
            raise DomainError(
                f"需求确认单{req.requirement_no}属于其他客户 (requirement form belongs to another customer)"
            )
    if cmd.valid_until < now.astimezone(BUSINESS_TZ).date():
        raise DomainError("报价有效期不能早于今天 (valid_until is in the past)")
    if await session.get(QuoteRow, cmd.quote_no):
        raise Conflict(f"报价单{cmd.quote_no}已存在 (quote number already exists)")
    lines = [
        domain.QuoteLine(q.model, q.quantity, q.unit_price, q.discount_pct, q.description)
        for q in cmd.lines
    ]
    insts = [domain.Instalment(i.label, i.percent, i.due) for i in cmd.instalments]
    priced = domain.price_quote(lines, insts, discount_limit)
    status = (
        domain.QuoteStatus.PENDING_APPROVAL
        if priced.needs_approval
        else domain.QuoteStatus.APPROVED
    )
    row = QuoteRow(
        quote_no=cmd.quote_no,
        customer_id=cmd.customer_id,
        requirement_no=cmd.requirement_no,
        lines=[{**to_jsonable_python(asdict(q)), "net_amount": str(q.net_amount)} for q in lines],
        instalments=[
            {**to_jsonable_python(asdict(i)), "amount": str(a)}
            for i, a in zip(insts, priced.instalment_amounts)
        ],
        list_total=str(priced.list_total),
        net_total=str(priced.net_total),
        max_discount_pct=str(priced.max_discount_pct),
        lead_time_days=cmd.lead_time_days,
        valid_until=cmd.valid_until,
        status=status,
        decided_by=None if priced.needs_approval else "policy",
        decided_at=None if priced.needs_approval else now,
        decision_reason=None
        if priced.needs_approval
        else f"折扣不超过{discount_limit}% (within the discount limit)",
        created_at=now,
        created_by=actor.subject,
    )
    session.add(row)
    await audit(
        session,
        actor,
        "quote",
        row.quote_no,
        "created",
        now,
        net_total=row.net_total,
        status=status,
        max_discount_pct=row.max_discount_pct,
        discount_limit_pct=str(discount_limit),
    )
    return row


async def get_quote(session: AsyncSession, no: str) -> QuoteRow:
    row = await session.get(QuoteRow, no)
    if row is None:
        raise NotFound(f"报价单{no}不存在 (quote not found)")
    return row


async def decide_quote(
    session: AsyncSession, no: str, cmd: QuoteDecisionIn, actor: Principal, now: datetime
) -> QuoteRow:
    row = await get_quote(session, no)
    row.status = domain.decide_quote(
        row.status, no, cmd.approve, cmd.reason, author=row.created_by, decider=actor.subject
    )
    row.decided_by, row.decided_at, row.decision_reason = actor.subject, now, cmd.reason
    await audit(
        session,
        actor,
        "quote",
        no,
        "approved" if cmd.approve else "rejected",
        now,
        reason=cmd.reason,
    )
    return row


async def list_quotes(
    session: AsyncSession,
    *,
    customer_id: str | None,
    status: str | None,
    owner: str | None,
    limit: int,
    offset: int,
):
    query = select(QuoteRow)
    for column, value in (
        (QuoteRow.customer_id, customer_id),
        (QuoteRow.status, status),
        (QuoteRow.created_by, owner),
    ):
        if value:
            query = query.where(column == value)
    return await page(session, query, [QuoteRow.created_at.desc()], limit, offset)


# ---------------------------------------------------------------- contracts: drafting
async def create_draft(
    session: AsyncSession, cmd: ContractDraftIn, actor: Principal, now: datetime
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
        contacts=[c.model_dump() for c in cmd.customer.contacts]
        if cmd.customer and cmd.customer.contacts
        else customer.contacts,
        calendar=cmd.calendar,
        dealer_id=cmd.dealer_id,
        sales_rep=cmd.sales_rep or actor.subject,
        created_at=now,
        created_by=actor.subject,
        updated_at=now,
        products=[],
        signatures=[],
        sign_offs=[],
    )
    await _apply_terms(session, row, cmd, now)
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
    session: AsyncSession, cmd: ContractDraftIn, actor: Principal, now: datetime
) -> CustomerRow:
    """A registered customer by id, or the inline one: matched by id and credit code, else registered."""
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
    session: AsyncSession, row: ContractRow, cmd: ContractDraftIn | ContractPatch, now: datetime
) -> None:
    """Validate and write the editable terms of a draft, then rehash its document."""
    fields = cmd.model_fields_set if isinstance(cmd, ContractPatch) else set(type(cmd).model_fields)
    if "service_levels" in fields and cmd.service_levels is not None:
        levels = domain.service_levels_with_overrides(
            [domain.ServiceLevel(**s.model_dump()) for s in cmd.service_levels]
        )
        row.service_levels = [to_jsonable_python(asdict(level)) for level in levels]
    if "terms" in fields and cmd.terms is not None:
        row.terms = cmd.terms.model_dump(mode="json")
    levels = [
        domain.ServiceLevel(**{**s, "urgency": domain.Urgency(s["urgency"])})
        for s in row.service_levels
    ]
    domain.check_terms(row.terms or {}, levels)
    if "products" in fields and cmd.products is not None:
        serials = [p.serial_no for p in cmd.products]
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
                f"序列号已属于其他合同: {', '.join(sorted(set(taken)))} (serial numbers already sold)"
            )
        row.products = [ProductRow(**p.model_dump()) for p in cmd.products]
    for name in ("calendar", "dealer_id", "sales_rep"):
        value = getattr(cmd, name)
        if name in fields and (value is not None or name == "dealer_id"):
            setattr(row, name, value)
    if "quote_no" in fields:
        if cmd.quote_no:
            quote = await get_quote(session, cmd.quote_no)
            domain.ensure_quote_usable(
                quote.status, quote.valid_until, quote.quote_no, now.astimezone(BUSINESS_TZ).date()
            )
            if quote.customer_id != row.customer_id:
                raise DomainError(
                    f"报价单{quote.quote_no}属于其他客户 (quote belongs to another customer)"
                )
        row.quote_no = cmd.quote_no
    if "requirement_no" in fields:
        if cmd.requirement_no:
            req = await get_requirement(session, cmd.requirement_no)
            if req.status != "confirmed":
                raise Conflict(
                    f"需求确认单{req.requirement_no}尚未经客户确认 (requirement form not confirmed by the customer)"
                )
            if req.customer_id != row.customer_id:
                raise DomainError(
                    f"需求确认单{req.requirement_no}属于其他客户 (requirement form belongs to another customer)"
                )
        row.requirement_no = cmd.requirement_no
    row.document_sha256 = domain.document_hash(document_content(row))


def document_content(row: ContractRow) -> dict[str, Any]:
    """The text a version's hash covers: everything the parties agree to."""
    return {
        "contract_no": row.contract_no,
        "version": row.version,
        "customer": {
            "customer_id": row.customer_id,
            "name": row.customer_name,
            "credit_code": row.credit_code,
            "contacts": row.contacts,
        },
        "products": [
            {"model": p.model, "serial_no": p.serial_no, "warranty_end": p.warranty_end.isoformat()}
            for p in row.products
        ],
        "service_levels": row.service_levels,
        "terms": row.terms,
        "calendar": row.calendar,
        "dealer_id": row.dealer_id,
        "quote_no": row.quote_no,
        "requirement_no": row.requirement_no,
    }


def _ensure_owner(row: ContractRow, actor: Principal) -> None:
    if _is_manager(actor) or actor.subject in (row.sales_rep, row.created_by):
        return
    raise Forbidden(
        f"只有负责的销售代表或销售经理可以修改合同{row.contract_no} (only the contract's sales rep or a sales manager)"
    )


async def get_contract(
    session: AsyncSession, contract_no: str, version: int | None = None
) -> ContractRow:
    for (
        obj
    ) in session.identity_map.values():  # already loaded in this transaction: no second round trip
        if (
            isinstance(obj, ContractRow)
            and obj.contract_no == contract_no
            and (obj.version == version if version else obj.is_latest)
        ):
            return obj
    query = select(ContractRow).where(ContractRow.contract_no == contract_no)
    query = (
        query.where(ContractRow.version == version)
        if version
        else query.where(ContractRow.is_latest.is_(True))
    )
    row = await session.scalar(query)
    if row is None:
        what = f"第{version}版" if version else ""
        raise NotFound(
            f"合同{contract_no}{what}不存在 (contract{' version' if version else ''} not found)"
        )
    return row


async def list_versions(session: AsyncSession, contract_no: str) -> list[ContractRow]:
    rows = (
        await session.scalars(
            select(ContractRow)
            .where(ContractRow.contract_no == contract_no)
            .order_by(ContractRow.version)
        )
    ).all()
    if not rows:
        raise NotFound(f"合同{contract_no}不存在 (contract not found)")
    return list(rows)


def to_domain(row: ContractRow) -> domain.Contract:
    current = [s for s in row.sign_offs if s.review_round == row.review_round]
    return domain.Contract(
        contract_no=row.contract_no,
        status=domain.ContractStatus(row.status),
        version=row.version,
        review_round=row.review_round,
        sign_offs=[
            domain.SignOff(domain.ReviewPart(s.part), s.approved, s.reviewer, s.comments, s.at)
            for s in current
        ],
        products=[domain.Product(p.model, p.serial_no, p.warranty_end) for p in row.products],
        document_sha256=row.document_sha256,
        approved_at=row.approved_at,
        signed_at=row.signed_at,
        archive_due_at=row.archive_due_at,
        archived_at=row.archived_at,
        authors=frozenset(a for a in (row.created_by, row.sales_rep) if a),
    )


def _store_state(row: ContractRow, contract: domain.Contract) -> None:
    row.status, row.review_round, row.approved_at = (
        contract.status,
        contract.review_round,
        contract.approved_at,
    )


async def edit_draft(
    session: AsyncSession, contract_no: str, cmd: ContractPatch, actor: Principal, now: datetime
) -> ContractRow:
    row = await get_contract(session, contract_no)
    _ensure_owner(row, actor)
    contract = to_domain(row)
    before_hash, before_status = row.document_sha256, row.status
    voided = contract.edit()
    _store_state(row, contract)
    await _apply_terms(session, row, cmd, now)
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
        fields=sorted(cmd.model_fields_set),
        sign_offs_voided=voided,
        status_before=before_status,
        document_sha256={"from": before_hash, "to": row.document_sha256},
    )
    return row


async def submit_for_review(
    session: AsyncSession, contract_no: str, actor: Principal, now: datetime
) -> ContractRow:
    row = await get_contract(session, contract_no)
    _ensure_owner(row, actor)
    contract = to_domain(row)
    contract.submit()
    _store_state(row, contract)
    row.submitted_at = now
    await audit(
        session,
        actor,
        "contract",
        contract_no,
        "submitted_for_review",
        now,
        version=row.version,
        review_round=row.review_round,
        document_sha256=row.document_sha256,
    )
    return row


async def sign_off(
    session: AsyncSession,
    contract_no: str,
    part: domain.ReviewPart,
    cmd: SignOffIn,
    actor: Principal,
    now: datetime,
) -> ContractRow:
    """Legal, finance or delivery decides on its own part; the decision is evidence (append-only)."""
    row = await get_contract(session, contract_no)
    contract = to_domain(row)
    round_ = row.review_round
    approved = cmd.decision == "approve"
    contract.sign_off(
        part, approved, actor.subject, [r.value for r in actor.roles], cmd.comments, now
    )
    row.sign_offs.append(
        SignOffRow(
            review_round=round_,
            part=part,
            approved=approved,
            reviewer=actor.subject,
            comments=cmd.comments,
            document_sha256=row.document_sha256,
            at=now,
        )
    )
    _store_state(row, contract)
    await audit(
        session,
        actor,
        "contract",
        contract_no,
        "review_approved" if approved else "review_rejected",
        now,
        part=part.value,
        version=row.version,
        review_round=round_,
        comments=cmd.comments,
        status_after=row.status,
    )
    return row


# ---------------------------------------------------------------- signing and archiving
async def sign_contract(
    session: AsyncSession,
    contract_no: str,
    cmd: SignIn,
    actor: Principal,
    now: datetime,
    office_calendar: str = "default",
) -> ContractRow:
    """Record both signatures on the reviewed version; ContractSigned leaves through the outbox; archiving is due."""
    row = await get_contract(session, contract_no)
    contract = to_domain(row)
    signatures = [domain.Signature(**s.model_dump()) for s in cmd.signatures]
    contract.sign(signatures, cmd.document_sha256, now)
    row.status, row.document_sha256, row.signed_at = (
        contract.status,
        contract.document_sha256,
        contract.signed_at,
    )
    row.signatures.extend(
        SignatureRow(party=s.party, signer=s.signer, signed_at=s.signed_at, method=s.method)
        for s in signatures
    )
    terms = row.terms or {}
    row.term_start, row.term_end = domain.service_term(
        row.signed_at.astimezone(BUSINESS_TZ).date(), terms.get("term_months", 12)
    )
    calendar = await load_calendar(
        session, office_calendar if row.calendar == ALWAYS_OPEN else row.calendar
    )
    row.archive_due_at = calendar.add_working_days(row.signed_at, domain.ARCHIVE_WORKING_DAYS)
    row.archive_due_provisional = calendar.is_provisional(row.signed_at, row.archive_due_at)
    row.updated_at = now
    await schedule(
        session, ARCHIVE_JOB, archive_job_key(row), row.archive_due_at, {"contract_id": row.id}
    )
    await enqueue(
        session,
        Envelope(
            data=contract_signed_event(row),
            subject=row.contract_no,
            correlation_id=actor.claims.get("cid"),
        ),
    )
    await audit(
        session,
        actor,
        "contract",
        contract_no,
        "signed",
        now,
        version=row.version,
        document_sha256=row.document_sha256,
        signatures=[asdict(s) for s in signatures],
        archive_due_at=row.archive_due_at,
    )
    return row


def archive_job_key(row: ContractRow) -> str:
    return f"{row.contract_no}/v{row.version}"


async def archive_contract(
    session: AsyncSession,
    contract_no: str,
    cmd: ArchiveIn,
    actor: Principal,
    now: datetime,
    version: int | None = None,
) -> ContractRow:
    """归档: the signed version's originals are filed; the deadline job is cancelled; ContractArchived is published."""
    row = await _signed_version(session, contract_no, version)
    contract = to_domain(row)
    on_time = contract.archive(cmd.items, now)
    row.status, row.archived_at, row.archived_by, row.archived_on_time = (
        contract.status,
        now,
        actor.subject,
        on_time,
    )
    row.archive_items, row.archive_location = [i.value for i in cmd.items], cmd.location
    await cancel(session, ARCHIVE_JOB, archive_job_key(row))
    await enqueue(
        session,
        Envelope(
            data=ContractArchivedV1(
                contract_no=row.contract_no,
                archived_at=now,
                archived_by=actor.subject,
                due_at=row.archive_due_at or now,
                on_time=on_time,
            ),
            subject=row.contract_no,
        ),
    )
    await audit(
        session,
        actor,
        "contract",
        contract_no,
        "archived",
        now,
        version=row.version,
        on_time=on_time,
        items=row.archive_items,
        location=cmd.location,
    )
    return row


async def _signed_version(
    session: AsyncSession, contract_no: str, version: int | None
) -> ContractRow:
    """The version meant: the one given, else the newest that was signed (an amendment draft may be on top)."""
    if version:
        return await get_contract(session, contract_no, version)
    row = await session.scalar(
        select(ContractRow)
        .where(
            ContractRow.contract_no == contract_no,
            ContractRow.status.in_([domain.ContractStatus.SIGNED, domain.ContractStatus.ARCHIVED]),
        )
        .order_by(ContractRow.version.desc())
        .limit(1)
    )
    return row if row is not None else await get_contract(session, contract_no)


async def amend(
    session: AsyncSession, contract_no: str, cmd: AmendmentIn, actor: Principal, now: datetime
) -> ContractRow:
    """A signed contract never changes: an amendment is a new draft version carrying its terms forward."""
    old = await get_contract(session, contract_no)
    _ensure_owner(old, actor)
    if old.status not in (domain.ContractStatus.SIGNED, domain.ContractStatus.ARCHIVED):
        raise Conflict(
            f"合同{contract_no}第{old.version}版尚未签署，请直接修改草稿 (only a signed contract is amended; edit the draft)"
        )
    old.is_latest = False
    await session.flush()
    row = ContractRow(
        id=str(uuid.uuid4()),
        contract_no=contract_no,
        version=old.version + 1,
        is_latest=True,
        status=domain.ContractStatus.DRAFT,
        review_round=0,
        customer_id=old.customer_id,
        customer_name=old.customer_name,
        credit_code=old.credit_code,
        contacts=old.contacts,
        service_levels=old.service_levels,
        terms=old.terms,
        calendar=old.calendar,
        dealer_id=old.dealer_id,
        sales_rep=old.sales_rep,
        quote_no=old.quote_no,
        requirement_no=old.requirement_no,
        amendment_reason=cmd.reason,
        created_at=now,
        created_by=actor.subject,
        updated_at=now,
        signatures=[],
        sign_offs=[],
        products=[
            ProductRow(model=p.model, serial_no=p.serial_no, warranty_end=p.warranty_end)
            for p in old.products
        ],
    )
    row.document_sha256 = domain.document_hash(document_content(row))
    session.add(row)
    await session.flush()
    await audit(
        session,
        actor,
        "contract",
        contract_no,
        "amendment_drafted",
        now,
        version=row.version,
        amends_version=old.version,
        reason=cmd.reason,
    )
    return row


async def list_contracts(
    session: AsyncSession,
    *,
    status: str | None,
    customer_id: str | None,
    owner: str | None = None,
    dealer_id: str | None = None,
    signed_from: datetime | None = None,
    signed_to: datetime | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: int,
    offset: int,
    signed_only: bool = False,
) -> tuple[list[ContractRow], int]:
    query = select(ContractRow).where(ContractRow.is_latest.is_(True))
    if signed_only:
        query = query.where(ContractRow.signed_at.is_not(None))
    for column, value in (
        (ContractRow.status, status),
        (ContractRow.customer_id, customer_id),
        (ContractRow.sales_rep, owner),
        (ContractRow.dealer_id, dealer_id),
    ):
        if value:
            query = query.where(column == value)
    for column, lo, hi in (
        (ContractRow.signed_at, signed_from, signed_to),
        (ContractRow.created_at, created_from, created_to),
    ):
        if lo:
            query = query.where(column >= lo)
        if hi:
            query = query.where(column < hi)
    return await page(
        session, query, [ContractRow.created_at.desc(), ContractRow.contract_no], limit, offset
    )


def contract_signed_event(row: ContractRow) -> ContractSignedV1:
    terms = row.terms or {}
    return ContractSignedV1(
        contract_no=row.contract_no,
        signed_at=row.signed_at,
        customer={
            "customer_id": row.customer_id,
            "name": row.customer_name,
            "credit_code": row.credit_code,
            "contacts": row.contacts,
        },
        products=[
            {"model": p.model, "serial_no": p.serial_no, "warranty_end": p.warranty_end}
            for p in row.products
        ],
        service_levels=row.service_levels,
        calendar=row.calendar,
        dealer_id=row.dealer_id,
        sales_rep=row.sales_rep,
        document_sha256=row.document_sha256,
        version=row.version,
        entitlement=EntitlementTerms(
            scope=terms.get("scope") or [],
            always_open=row.calendar == ALWAYS_OPEN,
            term_start=row.term_start,
            term_end=row.term_end,
            auto_renew=bool(terms.get("auto_renew")),
            loaner_promised=bool(terms.get("loaner_promised")),
            loaner_grade=terms.get("loaner_grade"),
            inspections_per_year=terms.get("inspections_per_year"),
        ),
    )


def today(now: datetime) -> date:
    return now.astimezone(BUSINESS_TZ).date()
