"""Money on a ticket over HTTP: warranty or chargeable (and its audited override), the price list,
labour and travel lines, quotes and the invoice request."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import PathParameter

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.errors import NotFound
from aftersales_shared.http import FromQuery, JSONBody
from aftersales_shared.service import Runtime

from .. import charges as c
from ..models import QuoteRow
from ..money_schemas import (
    CostLineIn,
    CoverageChangeOut,
    CoverageIn,
    InvoiceIn,
    InvoiceOut,
    PriceItemIn,
    PriceItemOut,
    QuoteIn,
    QuoteIssuedOut,
    QuoteOut,
    TicketOut,
    WithdrawIn,
)
from ..schemas import ServiceLineOut
from ..settings import PartsSettings
from ..usecases import invoices, money, quotes
from .common import COST_READERS, READERS

TicketPath = Annotated[str, PathParameter(min_length=1, max_length=100, description="工单号")]
CodePath = Annotated[
    str, PathParameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", description="价目编号")
]
QuoteNoPath = Annotated[str, PathParameter(min_length=3, max_length=40, description="报价编号")]
REPLAYED = "Idempotent-Replayed"


def quote_out(row: QuoteRow, out: type[QuoteOut] = QuoteOut, **extra: str) -> QuoteOut:
    status = c.quote_status(row.status, row.expires_at, utcnow())
    return out.model_validate(
        {**QuoteOut.model_validate(row).model_dump(), **extra} | {"status": status.value}
    )


def link_settings(settings: PartsSettings) -> quotes.LinkSettings:
    return quotes.LinkSettings(
        public_base_url=settings.public_base_url,
        notifications_public_key=settings.notifications_public_key,
        valid_days=settings.quote_valid_days,
        default_tax_rate=settings.default_tax_rate,
    )


class TicketMoneyController(Controller):
    path = "/tickets/{ticket_no:str}"
    tags = ["money"]

    @get("/", guards=[requires(*COST_READERS)], summary="The ticket as parts knows it: coverage")
    async def ticket(self, rt: NamedDependency[Runtime], ticket_no: TicketPath) -> TicketOut:
        async with rt.sessions() as s:
            return TicketOut.model_validate(await money.get_ticket(s, ticket_no))

    @put(
        "/coverage",
        guards=[requires(*c.OVERRIDERS)],
        summary="Override warranty ↔ chargeable (supervisor, with a reason; audited)",
    )
    async def override(
        self,
        rt: NamedDependency[Runtime],
        ticket_no: TicketPath,
        data: JSONBody[CoverageIn],
        request: Request,
    ) -> TicketOut:
        async with rt.sessions.begin() as s:
            row = await money.override_coverage(
                s, ticket_no, c.Coverage(data.coverage), data.reason, request.user, utcnow()
            )
            return TicketOut.model_validate(row)

    @get(
        "/coverage/history",
        guards=[requires(*COST_READERS)],
        summary="The audit trail of coverage overrides, oldest first",
    )
    async def history(
        self, rt: NamedDependency[Runtime], ticket_no: TicketPath
    ) -> list[CoverageChangeOut]:
        async with rt.sessions() as s:
            rows = await money.coverage_history(s, ticket_no)
            return [CoverageChangeOut.model_validate(r) for r in rows]

    @post(
        "/cost-lines",
        guards=[requires(*c.COST_WRITERS)],
        summary="Add labour (hours × rate) or travel (km × rate, or actual fares) to the ticket; "
        "a retry with the same idempotency key answers the first line (200)",
        status_code=201,
    )
    async def add_line(
        self,
        rt: NamedDependency[Runtime],
        ticket_no: TicketPath,
        data: JSONBody[CostLineIn],
        request: Request,
    ) -> Response[ServiceLineOut]:
        cmd = money.NewCostLine(
            kind=c.PriceKind(data.kind),
            person=data.person,
            idempotency_key=data.idempotency_key,
            quantity=data.quantity,
            price_code=data.price_code,
            amount=data.amount,
            description=data.description,
        )
        async with rt.sessions.begin() as s:
            row, replayed = await money.add_cost_line(s, ticket_no, cmd, request.user, utcnow())
            out = ServiceLineOut.model_validate(money._line_view(row))
        return Response(
            out,
            status_code=200 if replayed else 201,
            headers={REPLAYED: "true" if replayed else "false"},
        )

    @post(
        "/quotes",
        guards=[requires(*c.QUOTERS)],
        summary="Quote paid service for a chargeable ticket; the link goes to the customer "
        "(QuoteIssued, sealed for notifications) and is shown here once",
        status_code=201,
    )
    async def issue_quote(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        ticket_no: TicketPath,
        data: JSONBody[QuoteIn],
        request: Request,
    ) -> QuoteIssuedOut:
        lines = [quotes.LineRequest(**line.model_dump()) for line in data.lines]
        async with rt.sessions.begin() as s:
            row, link = await quotes.issue(
                s,
                ticket_no,
                lines,
                data.tax_rate,
                data.note,
                link_settings(settings),
                request.user,
                utcnow(),
            )
            out = quote_out(row, QuoteIssuedOut, link=link)
        assert isinstance(out, QuoteIssuedOut)
        return out

    @post(
        "/quotes/{quote_no:str}/withdraw",
        guards=[requires(*c.QUOTERS)],
        summary="Withdraw a quote the customer has not answered, with a reason (QuoteWithdrawn); "
        "its link then says so and a new quote may be issued",
        status_code=200,
    )
    async def withdraw_quote(
        self,
        rt: NamedDependency[Runtime],
        ticket_no: TicketPath,
        quote_no: QuoteNoPath,
        data: JSONBody[WithdrawIn],
        request: Request,
    ) -> QuoteOut:
        async with rt.sessions.begin() as s:
            row = await quotes.withdraw(s, ticket_no, quote_no, data.reason, request.user, utcnow())
            return quote_out(row)

    @get("/quotes", guards=[requires(*COST_READERS)], summary="The ticket's quotes, oldest first")
    async def list_quotes(
        self, rt: NamedDependency[Runtime], ticket_no: TicketPath
    ) -> list[QuoteOut]:
        async with rt.sessions() as s:
            return [quote_out(r) for r in await quotes.list_for_ticket(s, ticket_no)]

    @post(
        "/invoice",
        guards=[requires(*c.INVOICERS)],
        summary="Request the VAT invoice of a chargeable ticket (InvoiceRequested for finance); "
        "one per ticket",
        status_code=201,
    )
    async def request_invoice(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        ticket_no: TicketPath,
        data: JSONBody[InvoiceIn],
        request: Request,
    ) -> InvoiceOut:
        req = invoices.InvoiceRequest(**data.model_dump())
        async with rt.sessions.begin() as s:
            row = await invoices.request_invoice(
                s, ticket_no, req, settings.default_tax_rate, request.user, utcnow()
            )
            return InvoiceOut.model_validate(row)

    @get("/invoice", guards=[requires(*COST_READERS)], summary="The ticket's invoice request")
    async def get_invoice(self, rt: NamedDependency[Runtime], ticket_no: TicketPath) -> InvoiceOut:
        async with rt.sessions() as s:
            row = await invoices.get_invoice(s, ticket_no)
            if row is None:
                raise NotFound(f"工单{ticket_no}尚未申请发票 (no invoice requested)")
            return InvoiceOut.model_validate(row)


class PriceListController(Controller):
    path = "/price-list"
    tags = ["money"]

    @get("/", guards=[requires(*READERS)], summary="The price list of paid service")
    async def items(
        self, rt: NamedDependency[Runtime], include_inactive: FromQuery[bool] = False
    ) -> list[PriceItemOut]:
        async with rt.sessions() as s:
            rows = await money.price_list(s, include_inactive)
            return [PriceItemOut.model_validate(r) for r in rows]

    @put(
        "/{code:str}",
        guards=[requires(*c.PRICE_KEEPERS)],
        summary="Set a price list item (labour rate, travel rate, fixed-price service item); "
        "quotes and lines already made keep their rate",
    )
    async def put_item(
        self,
        rt: NamedDependency[Runtime],
        code: CodePath,
        data: JSONBody[PriceItemIn],
        request: Request,
    ) -> PriceItemOut:
        async with rt.sessions.begin() as s:
            row = await money.put_price(
                s,
                code,
                c.PriceKind(data.kind),
                data.name,
                data.unit,
                data.rate,
                data.active,
                request.user,
                utcnow(),
            )
            return PriceItemOut.model_validate(row)
