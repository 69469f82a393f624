"""The public web form (/r/new, issue 22 item 3) and the customer's tracking page (/t/<token>).

Someone without an account asks for service: the form's fields are checked here (messages in
zh-CN with the English beside them), the proof of work by `powcheck`, then one transaction counts
the request against the limits per contact phone and per client address (rows upserted in the
database, so the limits hold across replicas), marks the challenge used, opens the ticket through
the normal intake (channel web_form, actor `customer:web`, the entitlement when the serial or
contract number is known, else the default policy) and keeps the hash of a tracking token. Either
all of it is written or nothing.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.db import upsert_insert, utcnow
from aftersales_shared.errors import DomainError, NotFound
from aftersales_shared.events import Contact, SlaClock, Urgency
from aftersales_shared.publiclinks import hash_token, new_token, well_formed_token
from aftersales_shared.schemas import EMAIL_PATTERN

from .. import powcheck
from ..domain import Channel, ClockState, RequestType, Status, mobile
from ..models import (
    ProgressRow,
    TicketRow,
    TrackingLinkRow,
    WebFormChallengeRow,
    WebFormRateRow,
)
from ..settings import TicketsSettings
from .intake import TicketRequest, open_ticket
from .progress import log_entry

log = structlog.get_logger(__name__)

ACTOR = "customer:web"
FIELDS = (
    "request_type",
    "product_model",
    "serial_no",
    "contract_no",
    "description",
    "contact_name",
    "phone",
    "email",
    "challenge",
    "nonce",
)
# what a customer may ask for on the form, in the order the page offers it
REQUEST_TYPES: dict[RequestType, tuple[str, str]] = {
    RequestType.QUALITY_ISSUE: ("故障报修", "repair"),
    RequestType.USAGE_QUESTION: ("使用咨询", "question"),
    RequestType.COMPLAINT: ("投诉", "complaint"),
    RequestType.SUGGESTION: ("建议", "suggestion"),
}
MAX_LENGTH = {
    "product_model": 100,
    "serial_no": 100,
    "contract_no": 64,
    "description": 2000,
    "contact_name": 100,
    "email": 254,
}
RECEIVED = "已收到您的网上报修，客服将尽快与您联系 (request received through the web form)"


@dataclass(frozen=True)
class WebRequest:
    """What the customer asked for, checked."""

    request_type: RequestType
    description: str
    contact_name: str
    phone: str | None  # 11 digits; None: an e-mail request
    email: str | None = None
    product_model: str | None = None
    serial_no: str | None = None
    contract_no: str | None = None


class FormInvalid(DomainError):
    """Fields of the form are wrong; `errors` maps each to a message (zh-CN, English beside)."""

    code = "webform_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("报修单填写有误 (form invalid): " + "; ".join(errors.values()))
        self.errors = errors


class TooManyRequests(DomainError):
    status = 429
    code = "webform_rate_limited"


class TrackingUnknown(NotFound):
    code = "tracking_link_unknown"


class TrackingExpired(DomainError):
    status = 410
    code = "tracking_link_expired"


def _text(raw: dict[str, str | None], name: str) -> str:
    return (raw.get(name) or "").replace("\r\n", "\n").strip()


def _bad_chars(value: str, multiline: bool = False) -> bool:
    allowed = "\n\t" if multiline else ""
    return any(ord(c) < 32 and c not in allowed for c in value)


def validate_form(raw: dict[str, str | None]) -> WebRequest:
    """The request, or FormInvalid naming every wrong field."""
    errors: dict[str, str] = {}
    values = {name: _text(raw, name) for name in FIELDS}
    for name, most in MAX_LENGTH.items():
        if len(values[name]) > most:
            errors[name] = f"最多{most}个字 (at most {most} characters)"
        elif _bad_chars(values[name], multiline=name == "description"):
            errors[name] = "含有无效字符 (contains invalid characters)"
    try:
        request_type = RequestType(values["request_type"])
        if request_type not in REQUEST_TYPES:
            raise ValueError
    except ValueError:
        errors["request_type"] = "请选择您要办理的事项 (choose what you need)"
        request_type = RequestType.QUALITY_ISSUE
    if not (values["product_model"] or values["serial_no"] or values["contract_no"]):
        errors["product"] = (
            "请至少填写产品型号、出厂编号或合同编号中的一项 (give the product model, the serial "
            "number or the contract number)"
        )
    if not values["description"] and "description" not in errors:
        errors["description"] = "请描述故障现象或您的问题 (describe the fault or your question)"
    if not values["contact_name"] and "contact_name" not in errors:
        errors["contact_name"] = "请填写联系人姓名 (your name)"
    phone = mobile(values["phone"]) if len(values["phone"]) <= 30 else None
    if not values["phone"]:
        errors["phone"] = "请填写手机号码 (your mobile number)"
    elif phone is None:
        errors["phone"] = (
            "请填写11位中国大陆手机号码，如 13912345678 (a mainland China mobile number, 11 digits)"
        )
    email = values["email"] or None
    if email and "email" not in errors and not re.match(EMAIL_PATTERN, email):
        errors["email"] = "邮箱地址格式不正确，如 name@example.com (not an e-mail address)"
    if errors:
        raise FormInvalid(errors)
    assert phone is not None
    return WebRequest(
        request_type=request_type,
        description=values["description"],
        contact_name=values["contact_name"],
        phone=phone,
        email=email,
        product_model=values["product_model"] or None,
        serial_no=values["serial_no"] or None,
        contract_no=values["contract_no"] or None,
    )


CHECK_MESSAGES = {
    "missing": "安全验证未完成：请在浏览器中启用 JavaScript 后重新提交 (the anti-spam check did "
    "not run: enable JavaScript and submit again)",
    "expired": "安全验证已过期，页面已重新验证，请再次提交 (the check expired: submit again)",
    "used": "这次验证已使用过，请勿重复提交；如需再次报修请重新提交 (this check was already used: "
    "submit again for a new request)",
}
CHECK_INVALID = "安全验证未通过，请再次提交 (the anti-spam check failed: submit again)"


def check_challenge(
    raw: dict[str, str | None], settings: TicketsSettings, key: bytes, now: datetime
) -> powcheck.Challenge:
    """The form's solved challenge, or FormInvalid on the field `check`."""
    try:
        return powcheck.verify(
            key,
            _text(raw, "challenge"),
            _text(raw, "nonce"),
            min_bits=settings.webform_pow_bits,
            ttl_seconds=settings.webform_challenge_ttl_seconds,
            now=now,
        )
    except powcheck.ChallengeRefused as exc:
        log.info("tickets.webform_check_refused", reason=exc.reason)
        raise FormInvalid({"check": CHECK_MESSAGES.get(exc.reason, CHECK_INVALID)}) from None


def client_key(address: str) -> str:
    """Whom the per-address limit counts: the address, an IPv6 one by its /64 (what one
    subscriber usually gets)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"ip:{address}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"ip:{ip.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"ip:{ip}"


async def count(
    session: AsyncSession, key: str, limit: int, window: int, now: datetime, what: str
) -> None:
    """One more request for `key` in the current fixed window; TooManyRequests past the limit (the
    caller's transaction then writes nothing, this count included)."""
    start_s = int(now.timestamp()) // window * window
    start = datetime.fromtimestamp(start_s, now.tzinfo)
    rates = WebFormRateRow.__table__
    stmt = upsert_insert(session, rates).values(
        key_hash=hashlib.sha256(key.encode()).hexdigest(), window_start=start, count=1
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[rates.c.key_hash, rates.c.window_start],
        set_={"count": rates.c.count + 1},
    ).returning(rates.c.count)
    seen = (await session.execute(stmt)).scalar_one()
    if seen > limit:
        retry = max(1, start_s + window - int(now.timestamp()))
        raise TooManyRequests(
            f"提交过于频繁：同一{what}每{window // 60}分钟最多报修{limit}次 (too many requests "
            f"from this {'phone' if what == '手机号' else 'network'})",
            retry_after=retry,
        )


@dataclass(frozen=True)
class Submitted:
    ticket_no: str
    token: str


async def submit(
    session: AsyncSession,
    req: WebRequest,
    challenge: powcheck.Challenge,
    client: str,
    settings: TicketsSettings,
    now: datetime,
) -> Submitted:
    """Count, mark the challenge used, open the ticket, keep the tracking token's hash — in the
    caller's transaction."""
    window = settings.webform_rate_window_seconds
    await count(
        session, f"phone:{req.phone}", settings.webform_limit_per_phone, window, now, "手机号"
    )
    await count(session, client_key(client), settings.webform_limit_per_ip, window, now, "网络地址")
    used = WebFormChallengeRow.__table__
    expires = challenge.issued_at + timedelta(seconds=settings.webform_challenge_ttl_seconds)
    fresh = await session.scalar(
        upsert_insert(session, used)
        .values(challenge_hash=powcheck.fingerprint(challenge.text), expires_at=expires)
        .on_conflict_do_nothing()
        .returning(used.c.challenge_hash)
    )
    if fresh is None:
        log.info("tickets.webform_check_replayed")
        raise FormInvalid({"check": CHECK_MESSAGES["used"]})
    return await open_for_customer(session, req, Channel.WEB_FORM, ACTOR, RECEIVED, settings, now)


async def open_for_customer(
    session: AsyncSession,
    req: WebRequest,
    channel: Channel,
    actor: str,
    received: str,
    settings: TicketsSettings,
    now: datetime,
    wechat_openid: str | None = None,
) -> Submitted:
    """Open the ticket of a customer without an account (the web form, the WeChat dialogue): the
    normal intake with the default policy unless the serial or contract number is known, a tracking
    token (its hash kept) and the customer-visible "received" entry — in the caller's
    transaction."""
    opened = await open_ticket(
        session,
        TicketRequest(
            channel=channel.value,
            request_type=req.request_type,
            urgency=Urgency.NORMAL,
            description=req.description,
            customer_name=None,
            contact=Contact.model_construct(
                name=req.contact_name,
                phone=req.phone,
                email=req.email,
                role=None,
                wechat_openid=wechat_openid,
            ),
            contract_no=req.contract_no,
            product_model=req.product_model,
            serial_no=req.serial_no,
            use_default_policy=True,
            unverified=True,
        ),
        actor,
        now,
        settings,
    )
    token, token_hash = new_token()
    session.add(TrackingLinkRow(token_hash=token_hash, ticket_id=opened.id, created_at=now))
    ticket = await session.get(TicketRow, opened.id)
    assert ticket is not None
    session.add(log_entry(ticket, actor, "milestone", received, now, "customer"))
    await session.flush()
    return Submitted(opened.ticket_no, token)


async def purge(sessions: async_sessionmaker[AsyncSession], settings: TicketsSettings) -> None:
    """Drop used challenges that have expired anyway and past rate windows (best effort, after the
    request's own commit)."""
    now = utcnow()
    try:
        async with sessions.begin() as session:
            await session.execute(
                delete(WebFormChallengeRow).where(WebFormChallengeRow.expires_at < now)
            )
            horizon = now - timedelta(seconds=2 * settings.webform_rate_window_seconds)
            await session.execute(
                delete(WebFormRateRow).where(WebFormRateRow.window_start < horizon)
            )
    except Exception as exc:  # another replica purging the same rows: next time
        log.info("tickets.webform_purge_skipped", error=f"{type(exc).__name__}: {exc}")


# ------------------------------------------------------------------ the tracking page

CLOCK_PROMISE: dict[SlaClock, tuple[str, str]] = {
    SlaClock.ACKNOWLEDGE: ("受理您的请求", "we confirm your request"),
    SlaClock.RESPONSE: ("工程师与您联系", "an engineer contacts you"),
    SlaClock.ONSITE: ("工程师到达现场", "an engineer is on site"),
    SlaClock.RESOLUTION: ("处理完成", "the problem is solved"),
}
# the status in the customer's words, and the step of the progress bar it stands at
CUSTOMER_STATUS: dict[Status, tuple[str, str, int]] = {
    Status.NEW: ("已提交，等待受理", "received", 0),
    Status.ACKNOWLEDGED: ("已受理", "accepted", 1),
    Status.ASSIGNED: ("已派工", "engineer assigned", 2),
    Status.IN_PROGRESS: ("处理中", "in progress", 3),
    Status.WAITING_CUSTOMER: ("等待您的回复", "waiting for you", 3),
    Status.WAITING_PARTS: ("等待配件", "waiting for parts", 3),
    Status.RESOLVED: ("已处理，待确认", "done, to be confirmed", 4),
    Status.COMPLETED: ("已完成", "completed", 4),
}
STEPS = (
    ("提交", "sent"),
    ("受理", "accepted"),
    ("派工", "assigned"),
    ("处理", "working"),
    ("完成", "done"),
)


@dataclass(frozen=True)
class Tracking:
    ticket: TicketRow
    entries: list[ProgressRow]
    next_clock: SlaClock | None
    next_due: datetime | None
    paused: bool


async def tracking(
    session: AsyncSession, token: str, settings: TicketsSettings, now: datetime
) -> Tracking:
    """The ticket a tracking link names, with what the customer may see of it: status, the next
    promised time, the progress entries meant for customers (never the internal ones)."""
    if not well_formed_token(token):
        raise TrackingUnknown("查询链接无效 (unknown tracking link)")
    ticket = await session.scalar(
        select(TicketRow)
        .join(TrackingLinkRow, TrackingLinkRow.ticket_id == TicketRow.id)
        .where(TrackingLinkRow.token_hash == hash_token(token))
    )
    if ticket is None:
        raise TrackingUnknown("查询链接无效 (unknown tracking link)")
    keep = timedelta(days=settings.tracking_days_after_completion)
    if ticket.completed_at is not None and now >= ticket.completed_at + keep:
        raise TrackingExpired("查询链接已过期 (this tracking link has expired)")
    entries = list(
        (
            await session.scalars(
                select(ProgressRow)
                .where(ProgressRow.ticket_id == ticket.id, ProgressRow.visibility == "customer")
                .order_by(ProgressRow.id)
            )
        ).all()
    )
    running = [
        c for c in ticket.clocks if c.state == ClockState.RUNNING.value and c.deadline is not None
    ]
    paused = any(c.state == ClockState.PAUSED.value for c in ticket.clocks)
    if Status(ticket.status) is Status.COMPLETED:
        running, paused = [], False
    first = min(running, key=lambda c: c.deadline) if running else None  # type: ignore[arg-type,return-value]
    return Tracking(
        ticket=ticket,
        entries=entries,
        next_clock=SlaClock(first.kind) if first else None,
        next_due=first.deadline if first else None,
        paused=paused and first is None,
    )
