"""Signed on the page: the frozen 维修服务单 and the 投诉处理确认书, with their signatures."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from aftersales_shared.schemas import Out


class ServiceSheetSignatureOut(Out):
    signer_name: str
    score: int | None
    signed_at: datetime
    content_sha256: str
    image_sha256: str
    image_url: str


class ServiceSheetOut(Out):
    """A frozen 维修服务单: `content` is exactly the canonical JSON whose SHA-256 is
    `content_sha256` (hash the string, not a re-encoding of it)."""

    sheet_id: int
    ticket_no: str
    document: str
    content: str
    content_sha256: str
    frozen_by: str
    frozen_at: datetime
    expires_at: datetime
    link: str | None = Field(
        default=None, description="the one-time signing link; shown once, when frozen"
    )
    signature: ServiceSheetSignatureOut | None = None


class ComplaintSignatureOut(Out):
    """A 投诉处理确认书 the customer signed with a finger on the page (`content` exactly as
    hashed)."""

    proposal_id: int
    signer_name: str
    signed_at: datetime
    content: str
    content_sha256: str
    image_sha256: str
    image_url: str
