"""Deadlines of the contracts service: what happens when a scheduled job comes due.

Each handler decodes the job's payload and calls one use case with the time it fired."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.scheduler import Job, Scheduler

from .usecases import archiving, installation, receipt, shipping, training


def register_jobs(scheduler: Scheduler) -> None:
    """Attach this service's deadline handlers (tests attach them to a scheduler with a fake
    clock)."""

    @scheduler.handles(archiving.ARCHIVE_JOB)
    async def on_archive_due(session: AsyncSession, job: Job) -> None:
        await archiving.archive_overdue(session, job.payload["contract_id"], utcnow())

    @scheduler.handles(shipping.NOTICE_JOB)
    async def on_notice_due(session: AsyncSession, job: Job) -> None:
        await shipping.send_delivery_notice(session, job.payload["order_no"], utcnow())

    @scheduler.handles(receipt.OBJECTION_JOB)
    async def on_objection_due(session: AsyncSession, job: Job) -> None:
        await receipt.objection_overdue(
            session, job.payload["order_no"], int(job.payload["objection_no"]), utcnow()
        )

    @scheduler.handles(installation.BOOKING_JOB)
    async def on_booking_due(session: AsyncSession, job: Job) -> None:
        await installation.booking_overdue(session, job.payload["order_no"], utcnow())

    @scheduler.handles(training.FOLLOW_UP_JOB)
    async def on_training_follow_up_due(session: AsyncSession, job: Job) -> None:
        await training.follow_up_overdue(session, int(job.payload["training_id"]), utcnow())
