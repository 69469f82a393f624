"""The customer's own signed 维修服务单 (issue 22 item 4): the engineer freezes what the customer is
asked to sign (canonical JSON and its SHA-256) and gets a one-time link (/sheet/<token>, only the
token's hash kept); the customer checks it on a phone, may give a score, and signs with a finger.
The signature (PNG, name, time, the content's hash) is written once; nothing of a signed sheet
changes afterwards. Completing the ticket stays the engineer's step: `completion.complete` then
takes the customer, the time and the method `signature` from the signed sheet."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import Envelope, ServiceSheetSignedV1
from aftersales_shared.outbox import enqueue
from aftersales_shared.publiclinks import hash_token, new_token, well_formed_token

from ..domain import Status
from ..models import (
    CompletionRow,
    ProgressRow,
    ServiceSheetRow,
    ServiceSheetSignatureRow,
    TicketRow,
)
from ..settings import TicketsSettings
from . import parts_used
from .access import load, require_handler
from .progress import log_entry

DOCUMENT = "repair_sheet"
FREEZABLE = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED})
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"
MAX_PNG_BYTES = 300 * 1024
MAX_SIDE = 2400  # pixels: a phone canvas at device pixel ratio 3 stays below it
MIN_INK_PIXELS = 30  # fewer drawn pixels than this is a dot or a slip, not a signature
SIGNER_MAX = 100


class SheetUnknown(NotFound):
    code = "sheet_link_unknown"


class SheetExpired(DomainError):
    status = 404
    code = "sheet_link_expired"


class SheetSigned(Conflict):
    code = "sheet_signed"


class SheetSuperseded(Conflict):
    code = "sheet_superseded"


class SignatureInvalid(DomainError):
    """What the customer sent cannot be signed as it is; `errors` names the fields."""

    status = 400
    code = "signature_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("；".join(errors.values()), errors=errors)
        self.errors = errors


def canonical(content: dict[str, Any]) -> str:
    """The one text of a sheet that is hashed and shown: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_hex(raw: str | bytes) -> str:
    return hashlib.sha256(raw.encode() if isinstance(raw, str) else raw).hexdigest()


def form_token(token: str) -> str:
    """The hidden field of the sign form: bound to the link (a form posted to another link, or
    made without having opened this one, is refused)."""
    return sha256_hex(f"service-sheet-form:{token}")


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def sheet_content(
    ticket: TicketRow,
    entries: list[ProgressRow],
    now: datetime,
    priced_parts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What the customer signs: the ticket, customer, unit, fault, the work done, parts and fees
    from the progress log (entries meant for the customer, and every part and fee), times and
    engineer; and, when the parts service issued parts to the ticket, those parts with unit price
    and amount (`parts_priced`, `parts_total`: absent on a sheet without them)."""
    work = [
        {"at": _at(e.at), "text": e.text}
        for e in entries
        if e.visibility == "customer" and e.kind not in ("milestone", "reopen")
    ]
    parts = [
        {"name": str(p.get("name")), "quantity": int(p.get("quantity") or 0)}
        for e in entries
        for p in (e.parts or [])
    ]
    fees = [
        {"kind": e.fee_kind, "amount": _money(e.fee_amount)}
        for e in entries
        if e.fee_kind and e.fee_amount is not None
    ]
    total = sum((Decimal(f["amount"]) for f in fees), Decimal("0"))
    priced = (
        {
            "parts_priced": priced_parts,
            "parts_total": _money(sum((Decimal(p["amount"]) for p in priced_parts), Decimal(0))),
        }
        if priced_parts
        else {}
    )
    return priced | {
        "document": DOCUMENT,
        "ticket_no": ticket.ticket_no,
        "request_type": ticket.request_type,
        "customer": {
            "name": ticket.customer_name,
            "contact": ticket.contact_name,
            "phone": ticket.contact_phone,
        },
        "unit": {
            "product_model": ticket.product_model,
            "serial_no": ticket.serial_no,
            "contract_no": ticket.contract_no,
            "in_warranty": ticket.in_warranty,
        },
        "fault": ticket.description,
        "work": work,
        "parts": parts,
        "fees": fees,
        "fees_total": _money(total),
        "times": {
            "opened_at": _at(ticket.opened_at),
            "onsite_at": _at(ticket.onsite_at),
            "resolved_at": _at(ticket.resolved_at),
            "frozen_at": _at(now),
        },
        "engineer": {"id": ticket.assignee_id, "name": ticket.assignee_name},
    }


@dataclass(frozen=True)
class Frozen:
    sheet: ServiceSheetRow
    token: str


async def _newest(session: AsyncSession, ticket_id: str) -> ServiceSheetRow | None:
    return await session.scalar(
        select(ServiceSheetRow)
        .where(ServiceSheetRow.ticket_id == ticket_id)
        .order_by(ServiceSheetRow.id.desc())
        .limit(1)
    )


async def signature_of(session: AsyncSession, sheet_id: int) -> ServiceSheetSignatureRow | None:
    return await session.get(ServiceSheetSignatureRow, sheet_id)


async def pending_signature(
    session: AsyncSession, ticket: TicketRow
) -> tuple[ServiceSheetRow, ServiceSheetSignatureRow] | None:
    """The ticket's signed sheet that no completion has taken up yet (after a reopen the old one
    is done with)."""
    sheet = await _newest(session, ticket.id)
    signed = await signature_of(session, sheet.id) if sheet else None
    if sheet is None or signed is None:
        return None
    used = await session.scalar(
        select(CompletionRow.id).where(
            CompletionRow.ticket_id == ticket.id, CompletionRow.recorded_at >= signed.signed_at
        )
    )
    return None if used is not None else (sheet, signed)


async def freeze(
    session: AsyncSession,
    no: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> Frozen:
    """Freeze the sheet as it stands and make its one link; an unsigned earlier link of the ticket
    stops working (only the newest sheet signs)."""
    ticket = await load(session, no, user, lock=True)
    require_handler(ticket, user)
    if Status(ticket.status) not in FREEZABLE or ticket.assignee_id is None:
        raise Conflict(
            f"工单{ticket.ticket_no}尚未派单或已完成，不能生成维修服务单 "
            "(a service sheet needs an assigned, open ticket)",
            status=ticket.status,
        )
    if await pending_signature(session, ticket) is not None:
        raise SheetSigned(
            f"工单{ticket.ticket_no}的维修服务单已由客户签字，不能再修改 "
            "(the customer already signed this ticket's sheet)"
        )
    entries = list(
        (
            await session.scalars(
                select(ProgressRow)
                .where(ProgressRow.ticket_id == ticket.id)
                .order_by(ProgressRow.id)
            )
        ).all()
    )
    used = await parts_used.of_ticket(session, ticket.ticket_no)
    text = canonical(sheet_content(ticket, entries, now, used))
    token, token_hash = new_token()
    sheet = ServiceSheetRow(
        ticket_id=ticket.id,
        document=DOCUMENT,
        content=text,
        content_sha256=sha256_hex(text),
        token_hash=token_hash,
        frozen_by=user.subject,
        frozen_at=now,
        expires_at=now + timedelta(hours=settings.service_sheet_link_hours),
    )
    session.add(sheet)
    await session.flush()
    return Frozen(sheet=sheet, token=token)


@dataclass(frozen=True)
class Opened:
    sheet: ServiceSheetRow
    ticket: TicketRow
    signature: ServiceSheetSignatureRow | None

    @property
    def content(self) -> dict[str, Any]:
        return json.loads(self.sheet.content)


async def open_link(
    session: AsyncSession, token: str, now: datetime, *, lock: bool = False
) -> Opened:
    """The sheet a link names. A signed sheet opens read-only at any time; an unsigned one only
    before it expires and while it is the ticket's newest."""
    if not well_formed_token(token):
        raise SheetUnknown("服务单链接无效 (unknown service sheet link)")
    query = select(ServiceSheetRow).where(ServiceSheetRow.token_hash == hash_token(token))
    sheet = await session.scalar(query.with_for_update() if lock else query)
    if sheet is None:
        raise SheetUnknown("服务单链接无效 (unknown service sheet link)")
    ticket = await session.get(TicketRow, sheet.ticket_id)
    assert ticket is not None
    signature = await signature_of(session, sheet.id)
    if signature is None:
        if now >= sheet.expires_at:
            raise SheetExpired("服务单链接已过期 (this service sheet link has expired)")
        newest = await _newest(session, ticket.id)
        if (newest is not None and newest.id != sheet.id) or ticket.completed_at is not None:
            raise SheetSuperseded(
                "该服务单已被更新的版本取代或工单已完成 (a newer sheet replaced it, or the ticket "
                "is completed)"
            )
    return Opened(sheet=sheet, ticket=ticket, signature=signature)


def decode_signature(data_url: str | None) -> bytes:
    """The PNG of a canvas' data URL, checked: really a PNG, not too big, not blank."""
    if not data_url:
        raise SignatureInvalid({"signature": "请在签名框内用手指签名 (please sign in the box)"})
    if not data_url.startswith(DATA_URL_PREFIX):
        raise SignatureInvalid({"signature": "签名必须是PNG图片 (the signature must be a PNG)"})
    encoded = data_url[len(DATA_URL_PREFIX) :]
    if len(encoded) > (MAX_PNG_BYTES * 4) // 3 + 4:
        raise SignatureInvalid(
            {"signature": "签名图片过大，请清除后重新签名 (the signature image is too large)"}
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid(
            {"signature": "签名图片已损坏，请重新签名 (the signature image is damaged)"}
        ) from None
    check_png(raw)
    return raw


def check_png(raw: bytes) -> None:
    if len(raw) > MAX_PNG_BYTES:
        raise SignatureInvalid(
            {"signature": "签名图片过大，请清除后重新签名 (the signature image is too large)"}
        )
    if not raw.startswith(PNG_MAGIC):
        raise SignatureInvalid({"signature": "签名必须是PNG图片 (the signature must be a PNG)"})
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format != "PNG":
                raise SignatureInvalid(
                    {"signature": "签名必须是PNG图片 (the signature must be a PNG)"}
                )
            width, height = probe.size
            if width > MAX_SIDE or height > MAX_SIDE or width < 50 or height < 20:
                raise SignatureInvalid(
                    {"signature": "签名图片尺寸不对，请重新签名 (wrong image size)"}
                )
            probe.load()
            ink = _ink_pixels(probe)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise SignatureInvalid(
            {"signature": "签名图片已损坏，请重新签名 (the signature image is damaged)"}
        ) from None
    if ink < MIN_INK_PIXELS:
        raise SignatureInvalid(
            {"signature": "签名框是空的，请用手指签名 (the signature box is empty: please sign)"}
        )


def _ink_pixels(image: Any) -> int:
    """Pixels that differ from the paper: opaque dark on transparent or on white."""
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A")
    grey = rgba.convert("L")
    # ink: visible (alpha > 64) and darker than the paper (grey < 200)
    visible = alpha.point(lambda a: 255 if a > 64 else 0)
    dark = grey.point(lambda g: 255 if g < 200 else 0)
    from PIL import ImageChops

    both = ImageChops.multiply(visible, dark)
    return int(sum(both.histogram()[255:]))


@dataclass(frozen=True)
class SignIn:
    signature: str | None
    signer: str | None
    score: str | None
    form_token: str | None
    content_sha256: str | None


def _checked(data: SignIn, token: str, sheet: ServiceSheetRow) -> tuple[str, int | None, bytes]:
    if data.form_token != form_token(token) or data.content_sha256 != sheet.content_sha256:
        raise SignatureInvalid(
            {"form": "页面已过期或内容已变化，请刷新后重新签名 (reload the page and sign again)"}
        )
    errors: dict[str, str] = {}
    signer = (data.signer or "").strip()
    if not signer:
        errors["signer"] = "请填写签字人姓名 (please write your name)"
    elif len(signer) > SIGNER_MAX:
        errors["signer"] = f"姓名不能超过{SIGNER_MAX}个字 (name too long)"
    score: int | None = None
    if data.score not in (None, ""):
        if data.score not in ("1", "2", "3", "4", "5"):
            errors["score"] = "评分只能是1到5分 (the score is 1 to 5)"
        else:
            score = int(data.score)
    try:
        image = decode_signature(data.signature)
    except SignatureInvalid as exc:
        errors.update(exc.errors)
        image = b""
    if errors:
        raise SignatureInvalid(errors)
    return signer, score, image


async def sign(session: AsyncSession, token: str, data: SignIn, now: datetime) -> Opened:
    """The customer's signature, once: a signed sheet refuses every later submission."""
    opened = await open_link(session, token, now, lock=True)
    if opened.signature is not None:
        raise SheetSigned(
            "这份维修服务单已经签字，不能再修改 (this service sheet is already signed)"
        )
    sheet = opened.sheet
    signer, score, image = _checked(data, token, sheet)
    if sha256_hex(sheet.content) != sheet.content_sha256:  # the frozen text is what was hashed
        raise Conflict("服务单内容与其摘要不符 (the sheet does not match its hash)")
    signature = ServiceSheetSignatureRow(
        sheet_id=sheet.id,
        ticket_id=sheet.ticket_id,
        signer_name=signer,
        score=score,
        signed_at=now,
        content_sha256=sheet.content_sha256,
        image=image,
        image_sha256=sha256_hex(image),
    )
    session.add(signature)
    session.add(
        log_entry(
            opened.ticket,
            "customer",
            "milestone",
            f"客户{signer}在维修服务单上签字 (customer signed the service sheet)"
            + (f"，评分{score}分" if score else ""),
            now,
            "customer",
        )
    )
    ticket = opened.ticket
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=ServiceSheetSignedV1(
                ticket_id=ticket.id,
                ticket_no=ticket.ticket_no,
                sheet_id=sheet.id,
                document=sheet.document,
                signer_name=signer,
                signed_at=now,
                content_sha256=sheet.content_sha256,
                score=score,
                engineer_id=ticket.assignee_id if ticket.assignee_kind == "engineer" else None,
            ),
        ),
    )
    await session.flush()
    return Opened(sheet=sheet, ticket=ticket, signature=signature)


async def for_staff(
    session: AsyncSession, no: str, user: Principal
) -> tuple[ServiceSheetRow, ServiceSheetSignatureRow | None]:
    """The ticket's newest sheet and its signature, for those who may see the ticket."""
    ticket = await load(session, no, user)
    sheet = await _newest(session, ticket.id)
    if sheet is None:
        raise NotFound(f"工单{ticket.ticket_no}还没有维修服务单 (no service sheet yet)")
    return sheet, await signature_of(session, sheet.id)
