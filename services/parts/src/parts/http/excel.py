"""Excel: import of the part master and opening stock, export of stock and the ledger."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.exports import content_disposition
from aftersales_shared.service import Runtime
from aftersales_shared.xlsx import XLSX, workbook_bytes

from ..models import BalanceRow, MovementRow, PartRow
from ..schemas import ImportOut
from ..usecases import excel, queries
from .common import KEEPERS, READERS

MAX_EXPORT = 200_000


def _xlsx(content: bytes, name: str) -> Response[bytes]:
    return Response(
        content, media_type=XLSX, headers={"Content-Disposition": content_disposition(name)}
    )


class ExcelController(Controller):
    path = "/excel"
    tags = ["excel"]

    @post(
        "/import",
        guards=[requires(*KEEPERS)],
        summary="Import the part master (sheet 备件) and opening stock (sheet 期初库存) from an "
        ".xlsx request body: every error with its sheet and row, nothing written unless all "
        "rows are right",
        status_code=200,
    )
    async def import_workbook(self, rt: NamedDependency[Runtime], request: Request) -> ImportOut:
        content = await request.body()
        async with rt.sessions.begin() as s:
            done = await excel.import_workbook(s, content, request.user, utcnow())
        return ImportOut(**done)

    @get(
        "/stock.xlsx",
        guards=[requires(*READERS)],
        summary="Stock per part and location (xlsx)",
        media_type=XLSX,
    )
    async def stock(self, rt: NamedDependency[Runtime], request: Request) -> Response[Any]:
        async with rt.sessions() as s:
            query = queries.balances_query(request.user, None, None, None)
            rows = (
                await s.execute(
                    query.add_columns(PartRow.name)
                    .join(PartRow, PartRow.part_no == BalanceRow.part_no)
                    .order_by(BalanceRow.part_no, BalanceRow.location_id)
                    .limit(MAX_EXPORT)
                )
            ).all()
        cells = (
            [
                b.part_no,
                name,
                b.location_id,
                b.on_hand,
                b.reserved,
                b.on_hand - b.reserved,
                b.faulty,
            ]
            for b, name in rows
        )
        return _xlsx(workbook_bytes("库存", excel.STOCK_HEADER, cells), "备件库存.xlsx")

    @get(
        "/ledger.xlsx",
        guards=[requires(*READERS)],
        summary="The ledger (xlsx), oldest first",
        media_type=XLSX,
    )
    async def ledger(self, rt: NamedDependency[Runtime], request: Request) -> Response[Any]:
        async with rt.sessions() as s:
            query = queries.ledger_query(
                request.user,
                part_no=None,
                location_id=None,
                ticket_no=None,
                kind=None,
                since=None,
                until=None,
            )
            rows = (await s.scalars(query.order_by(MovementRow.seq).limit(MAX_EXPORT))).all()
        cells = (excel.ledger_cells(r) for r in rows)
        return _xlsx(workbook_bytes("库存流水", excel.LEDGER_HEADER, cells), "库存流水.xlsx")
