"""Files kept with a ticket (e-mail attachments, issue 22 item 2): listed and downloaded by
whoever may see the ticket (404 for anyone else, as for the ticket itself)."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.http import FromPath
from aftersales_shared.service import Runtime
from aftersales_shared.storage import FileStorage

from ..schemas import AttachmentOut
from ..usecases import progress
from .roles import READERS


class AttachmentController(Controller):
    path = "/tickets/{no:str}/attachments"
    tags = ["tickets"]

    @get("/", guards=[requires(*READERS, Role.CUSTOMER)], summary="Files kept with a ticket")
    async def list_(
        self, rt: NamedDependency[Runtime], no: FromPath[str], request: Request
    ) -> list[AttachmentOut]:
        async with rt.sessions() as session:
            rows = await progress.attachments(session, no, request.user)
            return [AttachmentOut.model_validate(r, from_attributes=True) for r in rows]

    @get(
        "/{attachment_id:int}",
        guards=[requires(*READERS, Role.CUSTOMER)],
        summary="Download one file kept with a ticket",
        media_type="application/octet-stream",
    )
    async def download(
        self,
        rt: NamedDependency[Runtime],
        storage: NamedDependency[FileStorage],
        no: FromPath[str],
        attachment_id: FromPath[int],
        request: Request,
    ) -> Response[bytes]:
        async with rt.sessions() as session:
            row = await progress.attachment(session, no, attachment_id, request.user)
        stored = await storage.get(row.storage_key)
        return Response(
            stored.data,
            media_type=row.content_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
                "X-Content-Type-Options": "nosniff",
            },
        )
