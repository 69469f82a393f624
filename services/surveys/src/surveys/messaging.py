"""Event handlers and deadlines of the surveys service: decode (done by the inbox), call one use case."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import Envelope, ServiceCompletedV1
from aftersales_shared.inbox import Inbox
from aftersales_shared.scheduler import Job, Scheduler

from . import services
from .domain import Policy


def register(inbox: Inbox, policy: Policy) -> None:
    @inbox.handles(ServiceCompletedV1)
    async def on_service_completed(
        session: AsyncSession, env: Envelope[ServiceCompletedV1]
    ) -> None:
        await services.on_service_completed(session, env, policy, utcnow())


def register_jobs(scheduler: Scheduler, policy: Policy) -> None:
    """The invitation deadline; also used by tests on a scheduler with a fake clock."""

    @scheduler.handles(services.INVITE_JOB)
    async def send_invitation(session: AsyncSession, job: Job) -> None:
        await services.send_invitation(session, job.key, policy, max(job.due_at, utcnow()))

    @scheduler.handles(services.REDACT_JOB)
    async def redact_link(session: AsyncSession, job: Job) -> None:
        survey_id = job.key.rsplit(":", 1)[0]
        await services.redact_link(
            session, survey_id, job.payload["event_id"], job.payload["attempt"], policy
        )
