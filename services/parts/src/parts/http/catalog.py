"""The part master, the locations and the reorder suggestions."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import FromQuery, JSONBody, Limit, Offset
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..domain import LocationKind
from ..schemas import (
    LocationIn,
    LocationOut,
    PartIn,
    PartOut,
    PartPatch,
    ReorderSuggestionOut,
)
from ..usecases import catalog, queries
from .common import KEEPERS, READERS, page_of

PartNoPath = Annotated[str, PathParameter(min_length=2, max_length=40, description="备件编号")]
LocationPath = Annotated[str, PathParameter(min_length=2, max_length=40, description="库位")]
Text = Annotated[str | None, QueryParameter(min_length=1, max_length=100)]


class PartsController(Controller):
    path = "/parts"
    tags = ["part master"]

    @post("/", guards=[requires(*KEEPERS)], summary="Create a part (备件主数据)")
    async def create(
        self, rt: NamedDependency[Runtime], data: JSONBody[PartIn], request: Request
    ) -> PartOut:
        async with rt.sessions.begin() as s:
            row = await catalog.create_part(
                s, catalog.NewPart(**data.model_dump()), request.user, utcnow()
            )
            return PartOut.model_validate(row)

    @patch(
        "/{part_no:str}",
        guards=[requires(*KEEPERS)],
        summary="Change a part; a new price applies to later issues",
    )
    async def update(
        self,
        rt: NamedDependency[Runtime],
        part_no: PartNoPath,
        data: JSONBody[PartPatch],
        request: Request,
    ) -> PartOut:
        async with rt.sessions.begin() as s:
            row = await catalog.update_part(
                s, part_no, data.model_dump(exclude_unset=True), request.user, utcnow()
            )
            return PartOut.model_validate(row)

    @get("/", guards=[requires(*READERS)], summary="Parts, filtered")
    async def list_parts(
        self,
        rt: NamedDependency[Runtime],
        q: Annotated[
            str | None,
            QueryParameter(min_length=1, max_length=100, description="in the number or name"),
        ] = None,
        model: Text = None,
        warranty_part: FromQuery[bool | None] = None,
        below_reorder: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[PartOut]:
        async with rt.sessions() as s:
            rows, total = await catalog.list_parts(
                s,
                q=q,
                model=model,
                warranty_part=warranty_part,
                below_reorder=below_reorder,
                limit=limit,
                offset=offset,
            )
            return page_of(PartOut, rows, total, limit, offset)

    @get("/{part_no:str}", guards=[requires(*READERS)], summary="One part")
    async def one(self, rt: NamedDependency[Runtime], part_no: PartNoPath) -> PartOut:
        async with rt.sessions() as s:
            return PartOut.model_validate(await catalog.get_part(s, part_no))


class LocationsController(Controller):
    path = "/locations"
    tags = ["locations"]

    @post(
        "/",
        guards=[requires(*KEEPERS)],
        summary="A place stock is kept: central warehouse, regional store, van, dealer store",
    )
    async def create(
        self, rt: NamedDependency[Runtime], data: JSONBody[LocationIn], request: Request
    ) -> LocationOut:
        async with rt.sessions.begin() as s:
            row = await catalog.create_location(
                s, catalog.NewLocation(**data.model_dump()), request.user, utcnow()
            )
            return LocationOut.model_validate(row)

    @get("/", guards=[requires(*READERS)], summary="Locations (a dealer: its own store)")
    async def list_locations(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        kind: FromQuery[LocationKind | None] = None,
        engineer_id: Text = None,
        dealer_id: Text = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[LocationOut]:
        async with rt.sessions() as s:
            rows, total = await catalog.list_locations(
                s,
                request.user,
                kind=kind,
                engineer_id=engineer_id,
                dealer_id=dealer_id,
                limit=limit,
                offset=offset,
            )
            return page_of(LocationOut, rows, total, limit, offset)

    @get("/{location_id:str}", guards=[requires(*READERS)], summary="One location")
    async def one(
        self, rt: NamedDependency[Runtime], location_id: LocationPath, request: Request
    ) -> LocationOut:
        async with rt.sessions() as s:
            row = await catalog.visible_location(s, location_id, request.user)
            return LocationOut.model_validate(row)


class ReorderController(Controller):
    path = "/reorder-suggestions"
    tags = ["reorder"]

    @get(
        "/",
        guards=[requires(*KEEPERS)],
        summary="Parts at or below their reorder point (total stock) and what to order",
    )
    async def suggestions(
        self, rt: NamedDependency[Runtime], limit: Limit = 50, offset: Offset = 0
    ) -> Page[ReorderSuggestionOut]:
        async with rt.sessions() as s:
            rows, total = await queries.reorder_suggestions(s, limit, offset)
            return page_of(ReorderSuggestionOut, rows, total, limit, offset)
