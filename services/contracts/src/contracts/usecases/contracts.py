"""Contract versions as records: reading them, their document, their state for the domain rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role
from aftersales_shared.errors import Forbidden, NotFound

from .. import domain
from ..models import ContractRow
from .common import page


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
            # the batch is hashed only when given: versions signed before it existed keep their hash
            | ({"batch_no": p.batch_no} if p.batch_no else {})
            for p in row.products
        ],
        "service_levels": row.service_levels,
        "terms": row.terms,
        "calendar": row.calendar,
        "dealer_id": row.dealer_id,
        "quote_no": row.quote_no,
        "requirement_no": row.requirement_no,
    }


def is_manager(actor: Principal) -> bool:
    return actor.has(Role.SALES_MANAGER)


def ensure_owner(row: ContractRow, actor: Principal) -> None:
    if is_manager(actor) or actor.subject in (row.sales_rep, row.created_by):
        return
    raise Forbidden(
        f"只有负责的销售代表或销售经理可以修改合同{row.contract_no} (only the contract's sales "
        "rep or a sales manager)"
    )


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
        products=[
            domain.Product(p.model, p.serial_no, p.warranty_end, p.batch_no) for p in row.products
        ],
        document_sha256=row.document_sha256,
        approved_at=row.approved_at,
        signed_at=row.signed_at,
        archive_due_at=row.archive_due_at,
        archived_at=row.archived_at,
        authors=frozenset(a for a in (row.created_by, row.sales_rep) if a),
    )


def store_state(row: ContractRow, contract: domain.Contract) -> None:
    row.status, row.review_round, row.approved_at = (
        contract.status,
        contract.review_round,
        contract.approved_at,
    )
