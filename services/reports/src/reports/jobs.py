"""The monthly publication on schedule: the job handler and the arming at start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.scheduler import Job, Scheduler
from aftersales_shared.service import Runtime

from .domain import Policy
from .usecases import publishing
from .usecases.publishing import Schedule

Now = Callable[[], datetime]


def register_publication(
    scheduler: Scheduler, policy: Policy, schedule: Schedule, clock: Now
) -> None:
    @scheduler.handles(publishing.JOB)
    async def monthly_report(session: AsyncSession, job: Job) -> None:
        await publishing.fire_scheduled(session, job.key, policy, schedule, clock())


def arm_at_start(policy: Policy, schedule: Schedule, clock: Now):  # type: ignore[no-untyped-def]
    async def arm(rt: Runtime) -> None:
        async with rt.sessions.begin() as session:
            await publishing.arm_next(session, policy, schedule, clock())

    return arm
