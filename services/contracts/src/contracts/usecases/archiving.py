"""Archiving (归档): the signed originals filed within 3 working days, or ContractArchiveOverdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.events import ContractArchivedV1, ContractArchiveOverdueV1, Envelope
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel

from .. import domain
from ..models import ContractRow
from .audit import audit
from .contracts import get_contract, to_domain


@dataclass(frozen=True)
class Filing:
    """What was filed (originals, credentials, requirement and review forms) and where."""

    items: list[domain.ArchiveItem]
    location: str | None = None


ARCHIVE_JOB = "contracts.archive_due"


def archive_job_key(row: ContractRow) -> str:
    return f"{row.contract_no}/v{row.version}"


async def archive_contract(
    session: AsyncSession,
    contract_no: str,
    cmd: Filing,
    actor: Principal,
    now: datetime,
    version: int | None = None,
) -> ContractRow:
    """归档: the signed version's originals are filed; the deadline job is cancelled;
    ContractArchived is published."""
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
    """The version meant: the one given, else the newest that was signed (an amendment draft may be
    on top)."""
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


async def archive_overdue(session: AsyncSession, contract_id: str, now: datetime) -> None:
    """Archiving was missed: ContractArchiveOverdue, once (the scheduler never re-arms a fired
    job)."""
    row = await session.scalar(select(ContractRow).where(ContractRow.id == contract_id))
    if row is None or row.status != domain.ContractStatus.SIGNED or row.archive_overdue_at:
        return
    row.archive_overdue_at = now
    await enqueue(
        session,
        Envelope(
            data=ContractArchiveOverdueV1(
                contract_no=row.contract_no,
                customer_name=row.customer_name,
                signed_at=row.signed_at,
                due_at=row.archive_due_at,
                sales_rep=row.sales_rep,
                due_provisional=bool(row.archive_due_provisional),
            ),
            subject=row.contract_no,
        ),
    )
    await audit(
        session,
        None,
        "contract",
        row.contract_no,
        "archive_overdue",
        now,
        version=row.version,
        due_at=row.archive_due_at,
    )
