"""Recipients and their preferences: register, list, read, change, and the history of changes."""

from __future__ import annotations

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas import RecipientChangeOut, RecipientIn, RecipientOut, RecipientPatch
from ..usecases import recipients
from ..usecases.recipients import ChangeRecipient, RegisterRecipient
from .access import READERS, WRITERS


class RecipientController(Controller):
    path = "/recipients"
    tags = ["recipients"]

    @post(
        "/",
        guards=[requires(*WRITERS)],
        summary="Register a recipient (phone and email validated)",
    )
    async def register(
        self, rt: NamedDependency[Runtime], data: JSONBody[RecipientIn], request: Request
    ) -> RecipientOut:
        cmd = RegisterRecipient(**data.model_dump())
        async with rt.sessions.begin() as session:
            row = await recipients.register_recipient(session, cmd, request.user, utcnow())
            return RecipientOut.model_validate(row)

    @get("/", guards=[requires(*READERS)], summary="List recipients")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        group: FromQuery[str | None] = None,
        dealer_id: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[RecipientOut]:
        async with rt.sessions() as session:
            rows, total = await recipients.list_recipients(
                session, group=group, dealer_id=dealer_id, q=q, limit=limit, offset=offset
            )
            return Page[RecipientOut](
                items=[RecipientOut.model_validate(r) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )

    @get("/{recipient_id:str}", guards=[requires(*READERS)], summary="One recipient")
    async def get_one(
        self, rt: NamedDependency[Runtime], recipient_id: FromPath[str]
    ) -> RecipientOut:
        async with rt.sessions() as session:
            return RecipientOut.model_validate(
                await recipients.get_recipient(session, recipient_id)
            )

    @patch(
        "/{recipient_id:str}",
        guards=[requires(*WRITERS)],
        summary="Change contact data or preferences",
    )
    async def update(
        self,
        rt: NamedDependency[Runtime],
        recipient_id: FromPath[str],
        data: JSONBody[RecipientPatch],
        request: Request,
    ) -> RecipientOut:
        cmd = ChangeRecipient(data.model_dump(exclude_unset=True))
        async with rt.sessions.begin() as session:
            row = await recipients.update_recipient(
                session, recipient_id, cmd, request.user, utcnow()
            )
            return RecipientOut.model_validate(row)

    @get(
        "/{recipient_id:str}/history",
        guards=[requires(*READERS)],
        summary="Who changed this recipient, and what",
    )
    async def history(
        self, rt: NamedDependency[Runtime], recipient_id: FromPath[str]
    ) -> list[RecipientChangeOut]:
        async with rt.sessions() as session:
            rows = await recipients.recipient_history(session, recipient_id)
            return [RecipientChangeOut.model_validate(r) for r in rows]
