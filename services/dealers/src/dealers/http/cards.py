"""Warranty cards (三包回执卡): registration, the manager's override, lists and the CSV export."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.exports import csv_response
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.warranty import CardIn, CardOut, OverrideIn
from ..settings import DealersSettings
from ..usecases import cards as uc_cards
from .common import DEALER_WORK, READ, R, ctx, page_of, scope


class CardsController(Controller):
    path = "/cards"
    tags = ["warranty cards"]

    @post(
        "/",
        guards=[requires(*DEALER_WORK)],
        summary="Register a warranty card (三包回执卡); publishes WarrantyCardRegistered",
    )
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        data: JSONBody[CardIn],
        request: Request,
    ) -> CardOut:
        async with rt.sessions.begin() as s:
            return CardOut.model_validate(
                await uc_cards.register_card(
                    s, uc_cards.NewCard(**data.model_dump()), ctx(request, settings)
                )
            )

    @get("/", guards=[requires(*READ)], summary="Warranty cards")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        dealer_id: FromQuery[str | None] = None,
        recognised: FromQuery[bool | None] = None,
        serial_no: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[CardOut]:
        async with rt.sessions() as s:
            rows, total = await uc_cards.list_cards(
                s,
                scope(request),
                dealer_id=dealer_id,
                recognised=recognised,
                serial_no=serial_no,
                limit=limit,
                offset=offset,
            )
            return page_of(CardOut, rows, total, limit, offset)

    @get("/export.csv", guards=[requires(*READ)], summary="Warranty cards as CSV")
    async def export(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        dealer_id: FromQuery[str | None] = None,
    ) -> Response[str]:
        async with rt.sessions() as s:
            rows, _ = await uc_cards.list_cards(
                s,
                scope(request),
                dealer_id=dealer_id,
                recognised=None,
                serial_no=None,
                limit=100_000,
                offset=0,
            )
        return csv_response(
            "warranty-cards.csv",
            [
                "dealer_id",
                "serial_no",
                "model",
                "sale_date",
                "customer_name",
                "registered_at",
                "day",
                "on_time",
                "warranty_recognised",
                "reason",
                "override_by",
                "override_note",
            ],
            (
                [
                    r.dealer_id,
                    r.serial_no,
                    r.model,
                    r.sale_date,
                    r.customer_name,
                    r.registered_at.isoformat(),
                    r.day,
                    r.on_time,
                    r.warranty_recognised,
                    r.reason or "",
                    r.override_by or "",
                    r.override_note or "",
                ]
                for r in rows
            ),
        )

    @get("/{card_id:str}", guards=[requires(*READ)], summary="One warranty card")
    async def get_one(
        self, rt: NamedDependency[Runtime], card_id: FromPath[str], request: Request
    ) -> CardOut:
        async with rt.sessions() as s:
            return CardOut.model_validate(await uc_cards.get_card(s, card_id, scope(request)))

    @post(
        "/{card_id:str}/override",
        guards=[requires(R.MANAGER)],
        status_code=200,
        summary="Manager recognises a late card, with a note",
    )
    async def override(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        card_id: FromPath[str],
        data: JSONBody[OverrideIn],
        request: Request,
    ) -> CardOut:
        async with rt.sessions.begin() as s:
            return CardOut.model_validate(
                await uc_cards.override_card(s, card_id, data.note, ctx(request, settings))
            )
