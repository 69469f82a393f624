"""The audit trail: who changed what."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.http import FromQuery, Limit, Offset
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.dealers import AuditOut
from ..usecases import audit as uc_audit
from .common import READ, page_of, scope


class AuditController(Controller):
    path = "/audit"
    tags = ["stocking plans"]  # where the route has always been listed in the API documents

    @get("/", guards=[requires(*READ)], summary="Audit trail: who changed what")
    async def audit(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        entity: FromQuery[str | None] = None,
        entity_id: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AuditOut]:
        async with rt.sessions() as s:
            rows, total = await uc_audit.list_audit(
                s,
                scope(request),
                entity=entity,
                entity_id=entity_id,
                limit=limit,
                offset=offset,
            )
            return page_of(AuditOut, rows, total, limit, offset)
