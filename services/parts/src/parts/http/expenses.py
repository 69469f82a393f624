"""Expense claims (费用报销) over HTTP: an engineer's claims for trips with lines and receipts,
approval by a supervisor, a manager's exception for a late claim, settlement by finance."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.exports import content_disposition
from aftersales_shared.http import FromQuery, JSONBody, Limit, Offset, bounded_body
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime
from aftersales_shared.storage import FileStorage

from .. import expenses as x
from ..expense_schemas import (
    ClaimEventOut,
    ExpenseClaimIn,
    ExpenseClaimOut,
    ExpenseClaimSummaryOut,
    ReasonIn,
    ReceiptOut,
    SettleIn,
)
from ..models import ExpenseClaimRow
from ..settings import PartsSettings
from ..usecases import expenses
from .common import page_of

# claims and receipts are numbered by 32-bit serials: a larger id is a 400, not a database error
MAX_ID = 2**31 - 1
RowId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description=f"id (1 to {MAX_ID})")]
Month = Annotated[
    str | None,
    QueryParameter(
        pattern=r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$",
        description="YYYY-MM: claims whose trip ended in that month",
    ),
]
StateFilter = Annotated[
    x.ClaimState | None,
    QueryParameter(name="state", description="draft, submitted, approved, rejected, settled"),
]
Engineer = Annotated[str | None, QueryParameter(min_length=1, max_length=200)]
FileName = Annotated[str, QueryParameter(min_length=1, max_length=200, description="原文件名")]
LineNo = Annotated[
    int | None,
    QueryParameter(ge=1, le=x.MAX_LINES, description="the line it proves; none: the whole claim"),
]


def config(settings: PartsSettings) -> expenses.ExpenseConfig:
    return expenses.ExpenseConfig(
        working_days=settings.expense_submit_working_days,
        approval_working_days=settings.expense_approval_working_days,
        calendar_id=settings.expense_calendar_id,
        timezone=settings.business_timezone,
    )


def trip_of(data: ExpenseClaimIn) -> expenses.Trip:
    return expenses.Trip(
        trip_start=data.trip_start,
        trip_end=data.trip_end,
        destination=data.destination,
        purpose=data.purpose,
        engineer_name=data.engineer_name,
        lines=[
            x.Line(
                spent_on=line.spent_on,
                category=x.Category(line.category),
                amount=line.amount,
                ticket_nos=tuple(line.ticket_nos),
                note=line.note,
            )
            for line in data.lines
        ],
    )


def summary(row: ExpenseClaimRow) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in ExpenseClaimRow.__table__.columns} | {
        "total": f"{row.total:.2f}"
    }


class ExpenseClaimsController(Controller):
    path = "/expense-claims"
    tags = ["expense claims"]

    async def _out(self, rt: Runtime, claim_id: int, user: Any) -> ExpenseClaimOut:
        async with rt.sessions() as s:
            row = await expenses.get_claim(s, claim_id, user)
            return ExpenseClaimOut.model_validate(await expenses.claim_out(s, row))

    @post(
        "/",
        guards=[requires(*x.CLAIMANTS)],
        summary="An engineer's claim for a trip (a draft): lines by day, category and ticket; the "
        "submission deadline (working days after the trip) is armed",
        status_code=201,
    )
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        data: JSONBody[ExpenseClaimIn],
        request: Request,
    ) -> ExpenseClaimOut:
        async with rt.sessions.begin() as s:
            row = await expenses.create_claim(
                s, trip_of(data), config(settings), request.user, utcnow()
            )
            claim_id = row.claim_id
        return await self._out(rt, claim_id, request.user)

    @get(
        "/",
        guards=[requires(*x.READERS)],
        summary="Claims, newest trip first (an engineer: their own only)",
    )
    async def list_claims(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        claim_state: StateFilter = None,
        engineer: Engineer = None,
        month: Month = None,
        overdue: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ExpenseClaimSummaryOut]:
        async with rt.sessions() as s:
            rows, total = await expenses.list_claims(
                s,
                request.user,
                state=claim_state,
                engineer=engineer,
                month=month,
                overdue=overdue,
                limit=limit,
                offset=offset,
            )
            return page_of(ExpenseClaimSummaryOut, [summary(r) for r in rows], total, limit, offset)

    @get("/{claim_id:int}", guards=[requires(*x.READERS)], summary="One claim with its totals")
    async def one(
        self, rt: NamedDependency[Runtime], claim_id: RowId, request: Request
    ) -> ExpenseClaimOut:
        return await self._out(rt, claim_id, request.user)

    @put(
        "/{claim_id:int}",
        guards=[requires(*x.CLAIMANTS)],
        summary="Correct a draft or rejected claim (trip and lines as a whole)",
    )
    async def replace(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        claim_id: RowId,
        data: JSONBody[ExpenseClaimIn],
        request: Request,
    ) -> ExpenseClaimOut:
        async with rt.sessions.begin() as s:
            await expenses.update_claim(
                s, claim_id, trip_of(data), config(settings), request.user, utcnow()
            )
        return await self._out(rt, claim_id, request.user)

    @post(
        "/{claim_id:int}/submit",
        guards=[requires(*x.CLAIMANTS)],
        summary="Submit for approval (ExpenseClaimSubmitted); past the deadline only with a "
        "manager's exception (逾期将不予报销)",
        status_code=200,
    )
    async def submit(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        claim_id: RowId,
        request: Request,
    ) -> ExpenseClaimOut:
        async with rt.sessions.begin() as s:
            await expenses.submit(s, claim_id, config(settings), request.user, utcnow())
        return await self._out(rt, claim_id, request.user)

    @post(
        "/{claim_id:int}/approve",
        guards=[requires(*x.APPROVERS)],
        summary="Approve a submitted claim (not one's own; ExpenseClaimApproved)",
        status_code=200,
    )
    async def approve(
        self, rt: NamedDependency[Runtime], claim_id: RowId, request: Request
    ) -> ExpenseClaimOut:
        async with rt.sessions.begin() as s:
            await expenses.approve(s, claim_id, request.user, utcnow())
        return await self._out(rt, claim_id, request.user)

    @post(
        "/{claim_id:int}/reject",
        guards=[requires(*x.APPROVERS)],
        summary="Send a submitted claim back with a reason (ExpenseClaimRejected); the engineer "
        "may correct and resubmit it",
        status_code=200,
    )
    async def reject(
        self,
        rt: NamedDependency[Runtime],
        claim_id: RowId,
        data: JSONBody[ReasonIn],
        request: Request,
    ) -> ExpenseClaimOut:
        async with rt.sessions.begin() as s:
            await expenses.reject(s, claim_id, data.reason, request.user, utcnow())
        return await self._out(rt, claim_id, request.user)

    @post(
        "/{claim_id:int}/settle",
        guards=[requires(*x.SETTLERS)],
        summary="Finance settles an approved claim with the payment reference "
        "(ExpenseClaimSettled)",
        status_code=200,
    )
    async def settle(
        self,
        rt: NamedDependency[Runtime],
        claim_id: RowId,
        data: JSONBody[SettleIn],
        request: Request,
    ) -> ExpenseClaimOut:
        async with rt.sessions.begin() as s:
            await expenses.settle(s, claim_id, data.payment_reference, request.user, utcnow())
        return await self._out(rt, claim_id, request.user)

    @post(
        "/{claim_id:int}/late-exception",
        guards=[requires(*x.EXCEPTION_GRANTERS)],
        summary="A manager lets an overdue draft be submitted after all, with a reason (audited)",
        status_code=200,
    )
    async def late_exception(
        self,
        rt: NamedDependency[Runtime],
        claim_id: RowId,
        data: JSONBody[ReasonIn],
        request: Request,
    ) -> ExpenseClaimOut:
        async with rt.sessions.begin() as s:
            await expenses.grant_exception(s, claim_id, data.reason, request.user, utcnow())
        return await self._out(rt, claim_id, request.user)

    @get(
        "/{claim_id:int}/history",
        guards=[requires(*x.READERS)],
        summary="The claim's audit trail: who did what, when and why, oldest first",
    )
    async def history(
        self, rt: NamedDependency[Runtime], claim_id: RowId, request: Request
    ) -> list[ClaimEventOut]:
        async with rt.sessions() as s:
            rows = await expenses.history(s, claim_id, request.user)
            return [ClaimEventOut.model_validate(r) for r in rows]

    @post(
        "/{claim_id:int}/receipts",
        guards=[requires(*x.CLAIMANTS)],
        summary="Attach a receipt (the file as the request body; Content-Type image/jpeg, "
        "image/png or application/pdf; the content must match) to a line or the whole claim",
        status_code=201,
        # the body is read below, bounded by the storage's limit with a message in Chinese
        # (Litestar's own limit would answer a bare "Request Entity Too Large")
        request_max_body_size=None,
    )
    async def add_receipt(
        self,
        rt: NamedDependency[Runtime],
        storage: NamedDependency[FileStorage],
        claim_id: RowId,
        filename: FileName,
        request: Request,
        line_no: LineNo = None,
    ) -> ReceiptOut:
        data = await bounded_body(request, storage.max_bytes, expenses.receipt_too_large)
        async with rt.sessions.begin() as s:
            row = await expenses.add_receipt(
                s,
                storage,
                claim_id,
                line_no,
                filename,
                request.headers.get("content-type"),
                data,
                request.user,
                utcnow(),
            )
            return ReceiptOut.model_validate(expenses.receipt_out(row))

    @get(
        "/{claim_id:int}/receipts/{receipt_id:int}",
        guards=[requires(*x.READERS)],
        summary="Download a receipt (whoever may see the claim)",
        media_type="application/octet-stream",
    )
    async def receipt(
        self,
        rt: NamedDependency[Runtime],
        storage: NamedDependency[FileStorage],
        claim_id: RowId,
        receipt_id: RowId,
        request: Request,
    ) -> Response[bytes]:
        async with rt.sessions() as s:
            row = await expenses.get_receipt(s, claim_id, receipt_id, request.user)
        stored = await storage.get(row.storage_key)
        return Response(
            stored.data,
            media_type=row.content_type,
            headers={
                "Content-Disposition": content_disposition(row.filename),
                "X-Content-Type-Options": "nosniff",
            },
        )

    @delete(
        "/{claim_id:int}/receipts/{receipt_id:int}",
        guards=[requires(*x.CLAIMANTS)],
        summary="Remove a receipt from a draft or rejected claim",
        status_code=204,
    )
    async def remove_receipt(
        self,
        rt: NamedDependency[Runtime],
        storage: NamedDependency[FileStorage],
        claim_id: RowId,
        receipt_id: RowId,
        request: Request,
    ) -> None:
        async with rt.sessions.begin() as s:
            key = await expenses.delete_receipt(s, claim_id, receipt_id, request.user)
        await storage.delete(key)
