"""Amendments: a signed contract never changes; an amendment is a new draft version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict

from .. import domain
from ..models import ContractRow, ProductRow
from .audit import audit
from .contracts import document_content, ensure_owner, get_contract


@dataclass(frozen=True)
class Amendment:
    """Why the signed contract is amended."""

    reason: str


async def amend(
    session: AsyncSession, contract_no: str, cmd: Amendment, actor: Principal, now: datetime
) -> ContractRow:
    """A signed contract never changes: an amendment is a new draft version carrying its terms
    forward."""
    old = await get_contract(session, contract_no)
    ensure_owner(old, actor)
    if old.status not in (domain.ContractStatus.SIGNED, domain.ContractStatus.ARCHIVED):
        raise Conflict(
            f"合同{contract_no}第{old.version}版尚未签署，请直接修改草稿 (only a signed contract "
            "is amended; edit the draft)"
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
            ProductRow(
                model=p.model,
                serial_no=p.serial_no,
                warranty_end=p.warranty_end,
                batch_no=p.batch_no,
            )
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
