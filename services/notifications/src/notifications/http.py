"""HTTP API of the notifications service: recipients and preferences, the delivery log, the rules in force."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
    Since,
    Until,
)
from aftersales_shared.service import Runtime

from . import services
from .schemas import (
    DeliveryFilter,
    DeliveryOut,
    DeliveryPage,
    RecipientChangeOut,
    RecipientIn,
    RecipientOut,
    RecipientPage,
    RecipientPatch,
)

READERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.MANAGER)
WRITERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER)
STATUS = "^(pending|held|sending|retrying|sent|failed)$"


def recipients_controller(rt: Runtime) -> type[Controller]:
    class RecipientController(Controller):
        path = "/recipients"
        tags = ["recipients"]

        @post(
            "/",
            guards=[requires(*WRITERS)],
            summary="Register a recipient (phone and email validated)",
        )
        async def register(self, data: JSONBody[RecipientIn], request: Request) -> RecipientOut:
            async with rt.sessions.begin() as session:
                row = await services.register_recipient(session, data, request.user, utcnow())
                return RecipientOut.model_validate(row)

        @get("/", guards=[requires(*READERS)], summary="List recipients")
        async def list_(
            self,
            group: FromQuery[str | None] = None,
            dealer_id: FromQuery[str | None] = None,
            q: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> RecipientPage:
            async with rt.sessions() as session:
                rows, total = await services.list_recipients(
                    session, group=group, dealer_id=dealer_id, q=q, limit=limit, offset=offset
                )
                return RecipientPage(
                    items=[RecipientOut.model_validate(r) for r in rows],
                    total=total,
                    limit=limit,
                    offset=offset,
                )

        @get("/{recipient_id:str}", guards=[requires(*READERS)], summary="One recipient")
        async def get_one(self, recipient_id: FromPath[str]) -> RecipientOut:
            async with rt.sessions() as session:
                return RecipientOut.model_validate(
                    await services.get_recipient(session, recipient_id)
                )

        @patch(
            "/{recipient_id:str}",
            guards=[requires(*WRITERS)],
            summary="Change contact data or preferences",
        )
        async def update(
            self, recipient_id: FromPath[str], data: JSONBody[RecipientPatch], request: Request
        ) -> RecipientOut:
            async with rt.sessions.begin() as session:
                row = await services.update_recipient(
                    session, recipient_id, data, request.user, utcnow()
                )
                return RecipientOut.model_validate(row)

        @get(
            "/{recipient_id:str}/history",
            guards=[requires(*READERS)],
            summary="Who changed this recipient, and what",
        )
        async def history(self, recipient_id: FromPath[str]) -> list[RecipientChangeOut]:
            async with rt.sessions() as session:
                rows = await services.recipient_history(session, recipient_id)
                return [RecipientChangeOut.model_validate(r) for r in rows]

    return RecipientController


def deliveries_controller(rt: Runtime, notifier: services.Notifier) -> type[Controller]:
    class DeliveryController(Controller):
        path = "/deliveries"
        tags = ["deliveries"]

        @get("/", guards=[requires(*READERS)], summary="Delivery log with filters")
        async def list_(
            self,
            status: Annotated[str | None, QueryParameter(pattern=STATUS)] = None,
            channel: Annotated[str | None, QueryParameter(pattern="^(sms|email)$")] = None,
            recipient: FromQuery[str | None] = None,
            event_id: FromQuery[str | None] = None,
            event_type: FromQuery[str | None] = None,
            template: FromQuery[str | None] = None,
            subject: FromQuery[str | None] = None,
            since: Since = None,
            until: Until = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> DeliveryPage:
            f = DeliveryFilter(
                status=status,
                channel=channel,
                recipient=recipient,
                event_id=event_id,
                event_type=event_type,
                template=template,
                subject=subject,
                since=since,
                until=until,
            )
            async with rt.sessions() as session:
                rows, total = await services.list_deliveries(session, f, limit, offset)
                return DeliveryPage(
                    items=[DeliveryOut.model_validate(r) for r in rows],
                    total=total,
                    limit=limit,
                    offset=offset,
                )

        @get(
            "/{delivery_id:str}",
            guards=[requires(*READERS)],
            summary="One delivery with its content and outcome",
        )
        async def get_one(self, delivery_id: FromPath[str]) -> DeliveryOut:
            async with rt.sessions() as session:
                return DeliveryOut.model_validate(await services.get_delivery(session, delivery_id))

    class RulesController(Controller):
        path = "/rules"
        tags = ["rules"]

        @get(
            "/",
            guards=[requires(*READERS)],
            summary="The notification rules in force (loaded at start)",
        )
        async def rules(self) -> dict[str, Any]:
            return notifier.rules.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    return [DeliveryController, RulesController]  # type: ignore[return-value]
