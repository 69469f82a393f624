"""Admin API over the dead-letter store: list kept messages with their reason, replay one."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.exceptions import HTTPException
from msgspec import Struct
from sqlalchemy import func, select

from .auth import Role, requires
from .db import dead_letters
from .deadletterstore import ReplayError
from .http import FromQuery, Limit, Offset, QueryParameter, RowId
from .inbox import Inbox


class DeadLetterOut(Struct):
    id: int
    consumer: str
    subject: str
    event_id: str | None
    event_type: str | None
    reason: str
    error: str
    deliveries: int
    created_at: datetime
    replayed_at: datetime | None
    replay_error: str | None
    headers: dict[str, Any]
    body: str


class DeadLetterPage(Struct):
    items: list[DeadLetterOut]
    total: int
    limit: int
    offset: int


class ReplayResult(Struct):
    id: int
    result: str


def _out(row: Any) -> DeadLetterOut:
    return DeadLetterOut(
        id=row.id,
        consumer=row.consumer,
        subject=row.subject,
        event_id=row.event_id,
        event_type=row.event_type,
        reason=row.reason,
        error=row.error,
        deliveries=row.deliveries,
        created_at=row.created_at,
        replayed_at=row.replayed_at,
        replay_error=row.replay_error,
        headers=json.loads(row.headers),
        body=row.body.decode("utf-8", errors="replace"),
    )


def dead_letter_controller(inbox: Inbox) -> type[Controller]:
    class DeadLetterController(Controller):
        path = "/admin/dead-letters"
        tags = ["dead letters"]
        guards = [requires(Role.ADMIN)]

        @get("/", summary="List dead letters (newest first)")
        async def list_dead_letters(
            self,
            status: Annotated[str, QueryParameter(pattern="^(open|replayed|all)$")] = "open",
            consumer: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> DeadLetterPage:
            query = select(dead_letters)
            if status == "open":
                query = query.where(dead_letters.c.replayed_at.is_(None))
            elif status == "replayed":
                query = query.where(dead_letters.c.replayed_at.is_not(None))
            if consumer:
                query = query.where(dead_letters.c.consumer == consumer)
            async with inbox.sessions() as session:
                total = (
                    await session.execute(select(func.count()).select_from(query.subquery()))
                ).scalar_one()
                rows = (
                    await session.execute(
                        query.order_by(dead_letters.c.id.desc()).limit(limit).offset(offset)
                    )
                ).all()
            return DeadLetterPage(
                items=[_out(r) for r in rows], total=total, limit=limit, offset=offset
            )

        @get("/{dead_letter_id:int}", summary="One dead letter")
        async def get_dead_letter(self, dead_letter_id: RowId) -> DeadLetterOut:
            async with inbox.sessions() as session:
                row = (
                    await session.execute(
                        select(dead_letters).where(dead_letters.c.id == dead_letter_id)
                    )
                ).one_or_none()
            if row is None:
                raise HTTPException(
                    status_code=404, detail=f"dead letter {dead_letter_id} does not exist"
                )
            return _out(row)

        @post(
            "/{dead_letter_id:int}/replay",
            summary="Handle a dead letter again (after a fix)",
            status_code=200,
        )
        async def replay(self, dead_letter_id: RowId) -> ReplayResult:
            try:
                result = await inbox.replay(dead_letter_id)
            except ReplayError as exc:
                raise HTTPException(status_code=exc.status, detail=exc.message) from exc
            return ReplayResult(id=dead_letter_id, result=result)

    return DeadLetterController
