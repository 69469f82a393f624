"""Claims settlement: deduction notices (三包费用核销通知), the dealer's answers, the CSV of a
notice."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.exports import csv_response
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
    RowId,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.settlement import LineAnswerIn, NoticeIn, NoticeOut
from ..settings import DealersSettings
from ..usecases import settlement as uc_settlement
from .common import READ, R, ctx, page_of, scope


class DeductionNoticesController(Controller):
    path = "/deduction-notices"
    tags = ["reconciliation"]

    @post(
        "/",
        guards=[requires(R.FINANCE)],
        summary="Issue a deduction notice (三包费用核销通知) for a dealer and period",
    )
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        data: JSONBody[NoticeIn],
        request: Request,
    ) -> NoticeOut:
        async with rt.sessions.begin() as s:
            return NoticeOut.model_validate(
                await uc_settlement.issue_notice(
                    s, uc_settlement.NoticeRequest(**data.model_dump()), ctx(request, settings)
                )
            )

    @get("/", guards=[requires(*READ)], summary="Deduction notices")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        dealer_id: FromQuery[str | None] = None,
        status: Annotated[
            str | None, QueryParameter(pattern="^(issued|confirmed|disputed)$")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[NoticeOut]:
        async with rt.sessions() as s:
            rows, total = await uc_settlement.list_notices(
                s,
                scope(request),
                dealer_id=dealer_id,
                status=status,
                limit=limit,
                offset=offset,
            )
            return page_of(NoticeOut, rows, total, limit, offset)

    @get(
        "/{notice_id:str}",
        guards=[requires(*READ)],
        summary="One deduction notice with its lines",
    )
    async def get_one(
        self, rt: NamedDependency[Runtime], notice_id: FromPath[str], request: Request
    ) -> NoticeOut:
        async with rt.sessions() as s:
            return NoticeOut.model_validate(
                await uc_settlement.get_notice(s, notice_id, scope(request))
            )

    @get(
        "/{notice_id:str}/export.csv",
        guards=[requires(*READ)],
        summary="A notice's lines as CSV",
    )
    async def export(
        self, rt: NamedDependency[Runtime], notice_id: FromPath[str], request: Request
    ) -> Response[str]:
        async with rt.sessions() as s:
            n = await uc_settlement.get_notice(s, notice_id, scope(request))
        return csv_response(
            f"{n.notice_no}.csv",
            ["notice_no", "record_no", "serial_no", "amount", "decision", "dispute_reason"],
            [
                *(
                    [
                        n.notice_no,
                        ln.record_no,
                        ln.serial_no,
                        ln.amount,
                        ln.decision,
                        ln.dispute_reason or "",
                    ]
                    for ln in n.lines
                ),
                [n.notice_no, "TOTAL", "", n.total, n.status, ""],
            ],
        )

    @post(
        "/{notice_id:str}/lines/{line_id:int}/answer",
        guards=[requires(R.DEALER)],
        status_code=200,
        summary="Dealer confirms or disputes one line",
    )
    async def answer(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        notice_id: FromPath[str],
        line_id: RowId,
        data: JSONBody[LineAnswerIn],
        request: Request,
    ) -> NoticeOut:
        async with rt.sessions.begin() as s:
            return NoticeOut.model_validate(
                await uc_settlement.answer_line(
                    s,
                    notice_id,
                    line_id,
                    uc_settlement.LineAnswer(**data.model_dump()),
                    ctx(request, settings),
                )
            )

    @post(
        "/{notice_id:str}/confirm",
        guards=[requires(R.DEALER)],
        status_code=200,
        summary="Dealer confirms the notice; publishes DeductionIssued",
    )
    async def confirm(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[DealersSettings],
        notice_id: FromPath[str],
        request: Request,
    ) -> NoticeOut:
        async with rt.sessions.begin() as s:
            return NoticeOut.model_validate(
                await uc_settlement.confirm_notice(s, notice_id, ctx(request, settings))
            )
