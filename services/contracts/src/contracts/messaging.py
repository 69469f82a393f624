"""Deadlines of the contracts service: what happens when a scheduled job comes due."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import ContractArchiveOverdueV1, Envelope
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import Job, Scheduler

from . import domain, fulfilment
from .models import ContractRow
from .services import ARCHIVE_JOB, audit


async def archive_overdue(session: AsyncSession, contract_id: str) -> None:
    """Archiving was missed: ContractArchiveOverdue, once (the scheduler never re-arms a fired job)."""
    row = await session.scalar(select(ContractRow).where(ContractRow.id == contract_id))
    if row is None or row.status != domain.ContractStatus.SIGNED or row.archive_overdue_at:
        return
    now = utcnow()
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


def register_jobs(scheduler: Scheduler) -> None:
    """Attach this service's deadline handlers (tests attach them to a scheduler with a fake clock)."""

    @scheduler.handles(ARCHIVE_JOB)
    async def on_archive_due(session: AsyncSession, job: Job) -> None:
        await archive_overdue(session, job.payload["contract_id"])

    @scheduler.handles(fulfilment.NOTICE_JOB)
    async def on_notice_due(session: AsyncSession, job: Job) -> None:
        await fulfilment.send_delivery_notice(session, job.payload["order_no"], utcnow())

    @scheduler.handles(fulfilment.OBJECTION_JOB)
    async def on_objection_due(session: AsyncSession, job: Job) -> None:
        await fulfilment.objection_overdue(
            session, job.payload["order_no"], int(job.payload["objection_no"]), utcnow()
        )

    @scheduler.handles(fulfilment.BOOKING_JOB)
    async def on_booking_due(session: AsyncSession, job: Job) -> None:
        await fulfilment.booking_overdue(session, job.payload["order_no"], utcnow())
