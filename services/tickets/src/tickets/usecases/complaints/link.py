"""The confirmation page (投诉处理确认书) behind a single-use link: the proposal a link names and
whether it may still be answered, the page's form checked field by field, and the answer, with the
finger signature when the page sends one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.publiclinks import hash_token, well_formed_token

from ...domain import (
    ComplaintStage,
)
from ...models import (
    ComplaintProposalRow,
    ComplaintRow,
    ComplaintSignatureRow,
)
from .. import service_sheet
from .answers import apply_answer

LINK_ACTOR = "customer:link"  # who recorded an answer given on the confirmation page


class LinkUnknown(NotFound):
    code = "complaint_link_unknown"


class LinkUsed(Conflict):
    code = "complaint_link_used"


class LinkExpired(DomainError):
    status = 410
    code = "complaint_link_expired"


class LinkSuperseded(Conflict):
    code = "complaint_link_superseded"


async def by_token(session: AsyncSession, token: str) -> ComplaintProposalRow:
    """The proposal a link names (a malformed token is as unknown as a wrong one)."""
    if not well_formed_token(token):
        raise LinkUnknown("确认链接无效 (unknown confirmation link)")
    query = select(ComplaintProposalRow).where(ComplaintProposalRow.token_hash == hash_token(token))
    proposal = await session.scalar(query)
    if proposal is None:
        raise LinkUnknown("确认链接无效 (unknown confirmation link)")
    return proposal


def check_link_open(row: ComplaintRow, proposal: ComplaintProposalRow, now: datetime) -> None:
    """Raise unless the customer may still answer this proposal on the page."""
    if proposal.outcome is not None:
        raise LinkUsed("该处理方案已确认过，链接只能使用一次 (this link was already used)")
    if proposal.round != row.round or ComplaintStage(row.stage) is not ComplaintStage.CONFIRMATION:
        raise LinkSuperseded("该处理方案已不再有效 (this proposal is no longer open)")
    if proposal.expires_at is not None and now >= proposal.expires_at:
        raise LinkExpired("确认链接已过期 (this confirmation link has expired)")


async def open_link(
    session: AsyncSession, token: str, now: datetime
) -> tuple[ComplaintRow, ComplaintProposalRow]:
    """The proposal behind a link, if the customer may still answer it."""
    proposal = await by_token(session, token)
    row = await session.get(ComplaintRow, proposal.ticket_id)
    assert row is not None
    check_link_open(row, proposal, now)
    return row, proposal


@dataclass(frozen=True)
class PageAnswer:
    """What the customer sent from the confirmation page."""

    decision: str  # accept | reject
    signer: str
    reason: str | None = None


SIGNER_MAX, REASON_MAX = 100, 2000


class PageAnswerInvalid(DomainError):
    """Fields of the page's form are wrong; `errors` maps each to a message (zh-CN)."""

    code = "complaint_answer_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(
            "确认书填写有误 (answer invalid): " + "; ".join(errors.values()), errors=errors
        )
        self.errors = errors


def validate_page_answer(raw: dict[str, str | None]) -> PageAnswer:
    errors: dict[str, str] = {}
    decision = (raw.get("decision") or "").strip()
    signer = (raw.get("signer") or "").strip()
    reason = (raw.get("reason") or "").replace("\r\n", "\n").strip()
    if decision not in ("accept", "reject"):
        errors["decision"] = "请选择接受或不接受处理方案 (choose accept or reject)"
    if not signer:
        errors["signer"] = "请填写确认人姓名 (your name, as your signature)"
    elif len(signer) > SIGNER_MAX or any(ord(c) < 32 for c in signer):
        errors["signer"] = f"姓名最多{SIGNER_MAX}个字 (at most {SIGNER_MAX} characters)"
    if decision == "reject" and not reason:
        errors["reason"] = "不接受时请写明原因 (tell us why you do not accept)"
    elif len(reason) > REASON_MAX or any(ord(c) < 32 and c not in "\n\t" for c in reason):
        errors["reason"] = f"原因最多{REASON_MAX}个字 (at most {REASON_MAX} characters)"
    if errors:
        raise PageAnswerInvalid(errors)
    return PageAnswer(decision, signer, reason or None)


async def answer_by_link(
    session: AsyncSession, token: str, raw: dict[str, str | None], now: datetime
) -> ComplaintProposalRow:
    """The customer answers on the page: signs with a name, accepts, or rejects with a reason.

    The complaint row is locked first, as every step that writes a proposal does (staff recording
    the answer at the same moment wait for each other, never deadlock); the proposal is read again
    under that lock."""
    found = await by_token(session, token)
    row = await session.get(
        ComplaintRow, found.ticket_id, with_for_update=True, populate_existing=True
    )
    assert row is not None
    proposal = await session.get(ComplaintProposalRow, found.id, populate_existing=True)
    assert proposal is not None
    check_link_open(row, proposal, now)
    answer = validate_page_answer(raw)
    image = _page_signature(raw.get("signature"))
    await apply_answer(
        session,
        row,
        proposal,
        accepted=answer.decision == "accept",
        confirmed_by=answer.signer,
        method="link" if image is None else "signature",
        reason=answer.reason,
        remarks=None,
        recorded_by=LINK_ACTOR,
        answered_at=now,
        now=now,
    )
    if image is not None:
        session.add(_signature_row(row, proposal, answer, image, now))
    return proposal


def _page_signature(data_url: str | None) -> bytes | None:
    """The finger signature the page may send with the answer (optional: the page works without
    JavaScript, and then the typed name is the signature)."""
    if not data_url:
        return None
    try:
        return service_sheet.decode_signature(data_url)
    except service_sheet.SignatureInvalid as exc:
        raise PageAnswerInvalid(exc.errors) from None


def confirmation_content(
    row: ComplaintRow, proposal: ComplaintProposalRow, answer: PageAnswer
) -> dict[str, Any]:
    """What the customer signs on the 投诉处理确认书: the complaint, the proposal, the answer."""
    return {
        "document": "complaint_confirmation",
        "ticket_no": row.ticket_no,
        "customer": row.ticket.customer_name,
        "complaint": row.ticket.description,
        "findings": row.findings,
        "promised_date": row.promised_date.isoformat() if row.promised_date else None,
        "proposal": {
            "round": proposal.round,
            "resolution": proposal.resolution,
            "proposed_at": proposal.proposed_at.isoformat(),
        },
        "decision": answer.decision,
        "reason": answer.reason,
        "signer": answer.signer,
    }


def _signature_row(
    row: ComplaintRow,
    proposal: ComplaintProposalRow,
    answer: PageAnswer,
    image: bytes,
    now: datetime,
) -> ComplaintSignatureRow:
    text = service_sheet.canonical(confirmation_content(row, proposal, answer))
    return ComplaintSignatureRow(
        proposal_id=proposal.id,
        ticket_id=row.ticket_id,
        signer_name=answer.signer,
        signed_at=now,
        content=text,
        content_sha256=service_sheet.sha256_hex(text),
        image=image,
        image_sha256=service_sheet.sha256_hex(image),
    )
