"""Event handlers of the tickets service: decode (done by the inbox), call one use case."""

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import ContractSignedV1, Envelope, SurveyAnsweredV1, TicketRequestedV1
from aftersales_shared.inbox import Inbox

from . import services
from .settings import TicketsSettings


def register(inbox: Inbox, settings: TicketsSettings) -> None:
    @inbox.handles(ContractSignedV1)
    async def on_contract_signed(session: AsyncSession, env: Envelope[ContractSignedV1]) -> None:
        await services.record_entitlement(session, env, utcnow())

    @inbox.handles(TicketRequestedV1)
    async def on_ticket_requested(session: AsyncSession, env: Envelope[TicketRequestedV1]) -> None:
        await services.open_requested_ticket(session, env, utcnow(), settings)

    @inbox.handles(SurveyAnsweredV1)
    async def on_survey_answered(session: AsyncSession, env: Envelope[SurveyAnsweredV1]) -> None:
        if env.data.low_score and settings.low_score_follow_up:
            await services.open_follow_up(session, env, utcnow(), settings)
