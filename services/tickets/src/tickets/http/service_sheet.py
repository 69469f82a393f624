"""The customer's signed 维修服务单 (issue 22 item 4): staff freeze it and read it back
(/tickets/{no}/service-sheet); the customer signs it on a phone at /sheet/<token> (no login: the
one-time token of the link; its own small script draws the signature on a canvas)."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.errors import DomainError
from aftersales_shared.http import FromPath
from aftersales_shared.publiclinks import SECURITY_HEADERS, GuessLimiter
from aftersales_shared.service import Runtime

from .. import pages
from ..models import ServiceSheetRow, ServiceSheetSignatureRow
from ..schemas import ComplaintSignatureOut, ServiceSheetOut, ServiceSheetSignatureOut
from ..settings import TicketsSettings
from ..usecases import complaints, service_sheet
from .complaint_page import guarded, page_error_handler
from .roles import HANDLERS, READERS

SHEET_PREFIX = "/sheet/"
SHEET_FORM_BYTES = 512 * 1024  # the PNG (≤ 300 KiB) as base64, the name and the score
SIGN_JS = files("tickets").joinpath("static/sign.js").read_bytes()
SIGN_FIELDS = ("signature", "signer", "score", "form_token", "content_sha256")
PNG_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": "default-src 'none'"}


def sheet_out(
    ticket_no: str,
    sheet: ServiceSheetRow,
    signature: ServiceSheetSignatureRow | None,
    link: str | None = None,
) -> ServiceSheetOut:
    signed = (
        ServiceSheetSignatureOut(
            signer_name=signature.signer_name,
            score=signature.score,
            signed_at=signature.signed_at,
            content_sha256=signature.content_sha256,
            image_sha256=signature.image_sha256,
            image_url=f"/tickets/{ticket_no}/service-sheet/signature.png",
        )
        if signature
        else None
    )
    return ServiceSheetOut(
        sheet_id=sheet.id,
        ticket_no=ticket_no,
        document=sheet.document,
        content=sheet.content,
        content_sha256=sheet.content_sha256,
        frozen_by=sheet.frozen_by,
        frozen_at=sheet.frozen_at,
        expires_at=sheet.expires_at,
        link=link,
        signature=signed,
    )


class ServiceSheetController(Controller):
    """Staff: freeze the sheet (the assigned engineer or service staff) and read it back."""

    path = "/tickets/{no:str}/service-sheet"
    tags = ["tickets"]

    @post(
        "/",
        guards=[requires(*HANDLERS)],
        status_code=201,
        summary="Freeze the 维修服务单 and get the customer's one-time signing link",
    )
    async def freeze(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        no: FromPath[str],
        request: Request,
    ) -> ServiceSheetOut:
        async with rt.sessions.begin() as session:
            frozen = await service_sheet.freeze(session, no, request.user, utcnow(), settings)
            link = f"{settings.public_base_url}{SHEET_PREFIX}{frozen.token}"
            return sheet_out(no, frozen.sheet, None, link)

    @get("/", guards=[requires(*READERS)], summary="The ticket's newest sheet and its signature")
    async def read(
        self, rt: NamedDependency[Runtime], no: FromPath[str], request: Request
    ) -> ServiceSheetOut:
        async with rt.sessions() as session:
            sheet, signature = await service_sheet.for_staff(session, no, request.user)
            return sheet_out(no, sheet, signature)

    @get(
        "/signature.png",
        guards=[requires(*READERS)],
        media_type="image/png",
        summary="The customer's signature (PNG) of the newest sheet",
    )
    async def signature(
        self, rt: NamedDependency[Runtime], no: FromPath[str], request: Request
    ) -> Response[bytes]:
        async with rt.sessions() as session:
            _, signature = await service_sheet.for_staff(session, no, request.user)
            if signature is None:
                raise service_sheet.NotFound(f"工单{no}的维修服务单尚未签字 (not signed yet)")
            return Response(signature.image, media_type="image/png", headers=PNG_HEADERS)


class ComplaintSignatureController(Controller):
    """The 投诉处理确认书 signed with a finger on /c/<token>, read-only, for those who may see the
    complaint."""

    path = "/complaints/{ticket_no:str}/signatures"
    tags = ["complaints"]

    @get("/", guards=[requires(*READERS)], summary="Finger-signed 投诉处理确认书 of a complaint")
    async def list_(
        self, rt: NamedDependency[Runtime], ticket_no: FromPath[str], request: Request
    ) -> list[ComplaintSignatureOut]:
        async with rt.sessions() as session:
            rows = await complaints.signatures(session, ticket_no, request.user)
            return [
                ComplaintSignatureOut(
                    proposal_id=r.proposal_id,
                    signer_name=r.signer_name,
                    signed_at=r.signed_at,
                    content=r.content,
                    content_sha256=r.content_sha256,
                    image_sha256=r.image_sha256,
                    image_url=f"/complaints/{ticket_no}/signatures/{r.proposal_id}/image.png",
                )
                for r in rows
            ]

    @get(
        "/{proposal_id:int}/image.png",
        guards=[requires(*READERS)],
        media_type="image/png",
        summary="The signature (PNG) of one answered proposal",
    )
    async def image(
        self,
        rt: NamedDependency[Runtime],
        ticket_no: FromPath[str],
        proposal_id: FromPath[int],
        request: Request,
    ) -> Response[bytes]:
        async with rt.sessions() as session:
            rows = await complaints.signatures(session, ticket_no, request.user)
            for row in rows:
                if row.proposal_id == proposal_id:
                    return Response(row.image, media_type="image/png", headers=PNG_HEADERS)
            raise service_sheet.NotFound(f"投诉{ticket_no}没有这份签名 (no such signature)")


class ServiceSheetPageController(Controller):
    """The page the customer signs on (the engineer's phone or the customer's own)."""

    path = "/sheet"
    include_in_schema = False
    exception_handlers = {
        DomainError: page_error_handler("sheet_link_unknown", pages.SHEET_PAGE),
        ValidationException: page_error_handler("sheet_link_unknown", pages.SHEET_PAGE),
        HTTPException: page_error_handler("sheet_link_unknown", pages.SHEET_PAGE),
        Exception: page_error_handler("sheet_link_unknown", pages.SHEET_PAGE),
    }

    @get("/sign.js", media_type="text/javascript")
    async def script(self) -> Response[bytes]:
        headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
        return Response(SIGN_JS, media_type="text/javascript; charset=utf-8", headers=headers)

    @get("/{token:str}")
    async def show(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        limiter: NamedDependency[GuessLimiter],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[str]:
        async with rt.sessions() as session:
            opened = await guarded(
                request,
                limiter,
                settings.trusted_proxies,
                lambda: service_sheet.open_link(session, token, utcnow()),
                unknown=service_sheet.SheetUnknown,
            )
            return pages.sheet_page(opened, token, settings.business_timezone)

    @get("/{token:str}/signature.png", media_type="image/png")
    async def signature(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        limiter: NamedDependency[GuessLimiter],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[bytes]:
        async with rt.sessions() as session:
            opened = await guarded(
                request,
                limiter,
                settings.trusted_proxies,
                lambda: service_sheet.open_link(session, token, utcnow()),
                unknown=service_sheet.SheetUnknown,
            )
            if opened.signature is None:
                raise service_sheet.SheetUnknown("尚未签字 (not signed yet)")
            return Response(opened.signature.image, media_type="image/png", headers=PNG_HEADERS)

    @post("/{token:str}", request_max_body_size=SHEET_FORM_BYTES, status_code=303)
    async def submit(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        limiter: NamedDependency[GuessLimiter],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[Any]:
        form = await request.form()
        raw = {f: v if isinstance(v := form.get(f), str) else None for f in SIGN_FIELDS}
        try:
            async with rt.sessions.begin() as session:
                await guarded(
                    request,
                    limiter,
                    settings.trusted_proxies,
                    lambda: service_sheet.sign(
                        session, token, service_sheet.SignIn(**raw), utcnow()
                    ),
                    unknown=service_sheet.SheetUnknown,
                )
        except service_sheet.SignatureInvalid as exc:
            async with rt.sessions() as session:
                opened = await service_sheet.open_link(session, token, utcnow())
                return pages.sheet_page(
                    opened,
                    token,
                    settings.business_timezone,
                    values=raw,
                    errors=exc.errors,
                    status=400,
                )
        return Redirect(token, status_code=303)
