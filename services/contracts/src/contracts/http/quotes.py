"""HTTP: quotes (报价单) and their discount decisions."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.quotes import QuoteDecisionIn, QuoteIn, QuoteOut
from ..settings import ContractsSettings
from ..usecases import quotes
from .common import READERS, SALES, business_tz


class QuoteController(Controller):
    path = "/quotes"
    tags = ["quotes"]

    @post(
        "/",
        guards=[requires(*SALES)],
        summary="Issue a quote; a discount above the limit waits for a sales manager",
    )
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        data: JSONBody[QuoteIn],
        request: Request,
    ) -> QuoteOut:
        async with rt.sessions.begin() as s:
            row = await quotes.create_quote(
                s,
                quotes.NewQuote(**data.model_dump()),
                request.user,
                utcnow(),
                settings.quote_discount_limit_pct,
                tz=business_tz(settings),
            )
            return QuoteOut.model_validate(row)

    @get("/", guards=[requires(*READERS)], summary="List quotes")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        customer_id: FromQuery[str | None] = None,
        owner: FromQuery[str | None] = None,
        status: Annotated[
            str | None, QueryParameter(pattern="^(pending_approval|approved|rejected)$")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[QuoteOut]:
        async with rt.sessions() as s:
            rows, total = await quotes.list_quotes(
                s,
                customer_id=customer_id,
                status=status,
                owner=owner,
                limit=limit,
                offset=offset,
            )
            return Page[QuoteOut](
                items=[QuoteOut.model_validate(r) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )

    @get("/{no:str}", guards=[requires(*READERS)], summary="One quote")
    async def get_one(self, rt: NamedDependency[Runtime], no: FromPath[str]) -> QuoteOut:
        async with rt.sessions() as s:
            return QuoteOut.model_validate(await quotes.get_quote(s, no))

    @post(
        "/{no:str}/decision",
        guards=[requires(Role.SALES_MANAGER)],
        summary="Sales manager approves or rejects a discount",
        status_code=200,
    )
    async def decide(
        self,
        rt: NamedDependency[Runtime],
        no: FromPath[str],
        data: JSONBody[QuoteDecisionIn],
        request: Request,
    ) -> QuoteOut:
        async with rt.sessions.begin() as s:
            return QuoteOut.model_validate(
                await quotes.decide_quote(
                    s, no, quotes.QuoteDecision(**data.model_dump()), request.user, utcnow()
                )
            )
