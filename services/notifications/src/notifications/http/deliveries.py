"""The delivery log: every message with its content, status and the provider's answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    Limit,
    Offset,
    QueryParameter,
    Since,
    Until,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas import DeliveryOut, UnreachableOut
from ..usecases import delivery_log
from ..usecases.delivery_log import DeliveryFilter
from .access import READERS

STATUS = "^(pending|held|sending|retrying|sent|failed|skipped|merged)$"


class DeliveryController(Controller):
    path = "/deliveries"
    tags = ["deliveries"]

    @get("/", guards=[requires(*READERS)], summary="Delivery log with filters")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        status: Annotated[str | None, QueryParameter(pattern=STATUS)] = None,
        channel: Annotated[str | None, QueryParameter(pattern="^(sms|email|wechat)$")] = None,
        recipient: FromQuery[str | None] = None,
        event_id: FromQuery[str | None] = None,
        event_type: FromQuery[str | None] = None,
        template: FromQuery[str | None] = None,
        rule_id: FromQuery[str | None] = None,
        subject: FromQuery[str | None] = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[DeliveryOut]:
        f = DeliveryFilter(
            status=status,
            channel=channel,
            recipient=recipient,
            event_id=event_id,
            event_type=event_type,
            template=template,
            rule_id=rule_id,
            subject=subject,
            since=since,
            until=until,
        )
        async with rt.sessions() as session:
            rows, total = await delivery_log.list_deliveries(session, f, limit, offset)
            return Page[DeliveryOut](
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
    async def get_one(
        self, rt: NamedDependency[Runtime], delivery_id: FromPath[str]
    ) -> DeliveryOut:
        async with rt.sessions() as session:
            return DeliveryOut.model_validate(await delivery_log.get_delivery(session, delivery_id))


class UnreachableController(Controller):
    path = "/unreachable-recipients"
    tags = ["deliveries"]

    @get(
        "/",
        guards=[requires(*READERS)],
        summary="Recipients without an address: who the rules name but nobody could reach, and why",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        since: Since = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[UnreachableOut]:
        async with rt.sessions() as session:
            rows, total = await delivery_log.unreachable(session, limit, offset, since)
        return Page[UnreachableOut](
            items=[UnreachableOut.model_validate(r) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )
