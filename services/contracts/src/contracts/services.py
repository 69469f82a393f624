"""Use cases of the contracts service: one function per thing a user does."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import ContractSignedV1, Envelope
from aftersales_shared.outbox import enqueue

from . import domain
from .models import ContractRow, ProductRow, SignatureRow
from .schemas import ContractDraftIn, SignIn


async def create_draft(session: AsyncSession, cmd: ContractDraftIn, actor: Principal, now: datetime) -> ContractRow:
    credit_code = domain.validate_credit_code(cmd.customer.credit_code)
    levels = domain.service_levels_with_overrides(
        [domain.ServiceLevel(**s.model_dump()) for s in cmd.service_levels]
    )
    serials = [p.serial_no for p in cmd.products]
    dupes = sorted({s for s in serials if serials.count(s) > 1})
    if dupes:
        raise DomainError(f"序列号重复: {', '.join(dupes)} (serial numbers listed twice)")
    if await session.scalar(select(ContractRow.id).where(ContractRow.contract_no == cmd.contract_no)):
        raise Conflict(f"合同编号{cmd.contract_no}已存在 (contract number already exists)")
    taken = (await session.scalars(select(ProductRow.serial_no).where(ProductRow.serial_no.in_(serials)))).all()
    if taken:
        raise Conflict(f"序列号已属于其他合同: {', '.join(sorted(taken))} (serial numbers already sold)")
    row = ContractRow(
        id=str(uuid.uuid4()),
        contract_no=cmd.contract_no,
        status=domain.ContractStatus.DRAFT,
        customer_id=cmd.customer.customer_id,
        customer_name=cmd.customer.name,
        credit_code=credit_code,
        contacts=[c.model_dump() for c in cmd.customer.contacts],
        service_levels=[asdict(level) for level in levels],
        calendar=cmd.calendar,
        dealer_id=cmd.dealer_id,
        sales_rep=cmd.sales_rep or actor.subject,
        created_at=now,
        created_by=actor.subject,
        products=[ProductRow(**p.model_dump()) for p in cmd.products],
        signatures=[],
    )
    session.add(row)
    await session.flush()
    return row


async def get_contract(session: AsyncSession, contract_no: str) -> ContractRow:
    row = await session.scalar(select(ContractRow).where(ContractRow.contract_no == contract_no))
    if row is None:
        raise NotFound(f"合同{contract_no}不存在 (contract not found)")
    return row


async def list_contracts(
    session: AsyncSession, *, status: str | None, customer_id: str | None, limit: int, offset: int
) -> tuple[list[ContractRow], int]:
    query = select(ContractRow)
    if status:
        query = query.where(ContractRow.status == status)
    if customer_id:
        query = query.where(ContractRow.customer_id == customer_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await session.scalars(query.order_by(ContractRow.created_at.desc()).limit(limit).offset(offset))).all()
    return list(rows), total


async def sign_contract(
    session: AsyncSession, contract_no: str, cmd: SignIn, actor: Principal, now: datetime
) -> ContractRow:
    """Record both signatures and the document hash; ContractSigned leaves through the outbox."""
    row = await get_contract(session, contract_no)
    contract = domain.Contract(contract_no=row.contract_no, status=domain.ContractStatus(row.status))
    signatures = [domain.Signature(**s.model_dump()) for s in cmd.signatures]
    contract.sign(signatures, cmd.document_sha256, now)
    row.status = contract.status
    row.document_sha256 = contract.document_sha256
    row.signed_at = contract.signed_at
    row.signatures.extend(
        SignatureRow(party=s.party, signer=s.signer, signed_at=s.signed_at, method=s.method) for s in signatures
    )
    await session.flush()
    await enqueue(session, Envelope(data=contract_signed_event(row), subject=row.contract_no, correlation_id=actor.claims.get("cid")))
    return row


def contract_signed_event(row: ContractRow) -> ContractSignedV1:
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
            {"model": p.model, "serial_no": p.serial_no, "warranty_end": p.warranty_end} for p in row.products
        ],
        service_levels=row.service_levels,
        calendar=row.calendar,
        dealer_id=row.dealer_id,
        sales_rep=row.sales_rep,
        document_sha256=row.document_sha256,
    )
