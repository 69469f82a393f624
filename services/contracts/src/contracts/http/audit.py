"""HTTP: the audit trail."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.http import (
    FromQuery,
    Limit,
    Offset,
    QueryParameter,
    Since,
    Until,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.audit import AuditOut
from ..usecases import audit
from .common import AUDITORS


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get(
        "/",
        guards=[requires(*AUDITORS)],
        summary="Audit trail of every change (who, when, what)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        entity: Annotated[
            str | None,
            QueryParameter(pattern="^(customer|lead|requirement|quote|contract|order)$"),
        ] = None,
        key: FromQuery[str | None] = None,
        actor: FromQuery[str | None] = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[AuditOut]:
        async with rt.sessions() as s:
            rows, total = await audit.list_audit(
                s,
                entity=entity,
                key=key,
                actor=actor,
                since=since,
                until=until,
                limit=limit,
                offset=offset,
            )
            return Page[AuditOut](
                items=[AuditOut.model_validate(r) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )
