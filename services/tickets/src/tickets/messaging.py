"""Event handlers of the tickets service: decode (done by the inbox), call one use case."""

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import ContractSignedV1, Envelope
from aftersales_shared.inbox import Inbox

from . import services


def register(inbox: Inbox) -> None:
    @inbox.handles(ContractSignedV1)
    async def on_contract_signed(session: AsyncSession, env: Envelope[ContractSignedV1]) -> None:
        await services.record_entitlement(session, env, utcnow())
