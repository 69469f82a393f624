"""The public pages: the complaint confirmation (投诉处理确认书, /c/<token>), the web form (/r/new)
and the customer's tracking page (/t/<token>). Jinja2 templates, autoescaped, in Chinese with the
English beside it; no CDN; the security headers of every public page. Only the web form runs a
script, its own (/r/pow.js, the anti-spam check); the others run none."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import MediaType, Response

from aftersales_shared.publiclinks import SECURITY_HEADERS

from .domain import RequestType, Status
from .models import ComplaintProposalRow, ComplaintRow
from .usecases import service_sheet, webform
from .usecases.complaints import REASON_MAX, SIGNER_MAX

_env = Environment(
    loader=PackageLoader("tickets", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

LABELS = {
    "decision": "是否接受 (your answer)",
    "reason": "不接受的原因 (why not)",
    "signer": "确认人 (your name)",
    "signature": "手写签名 (your signature)",
}
# error code of the page → (icon, title, what to do)
STATES: dict[str, tuple[str, str, str]] = {
    "complaint_link_unknown": (
        "?",
        "确认链接无效 (Link not valid)",
        "找不到这份确认书，请检查短信或邮件中的链接是否完整。(We could not find this "
        "confirmation: please check that the link from the SMS or e-mail is complete.)",
    ),
    "complaint_link_used": (
        "✓",
        "该确认书已提交 (Already answered)",
        "这份处理方案已经确认过了，每个链接只能使用一次。如有疑问请拨打客服热线。(This resolution "
        "was already answered; each link works once. Please call our hotline with any question.)",
    ),
    "complaint_link_superseded": (
        "ⓘ",
        "该处理方案已不再有效 (No longer open)",
        "这份处理方案已由客服记录答复或已被新的方案取代。(This proposal was answered with our "
        "staff or replaced by a new one.)",
    ),
    "complaint_link_expired": (
        "⌛",
        "确认链接已过期 (Link expired)",
        "这个链接已超过有效期，请拨打客服热线，我们会重新为您安排。(This link has expired: please "
        "call our hotline.)",
    ),
    "too_many_attempts": (
        "⏳",
        "尝试次数过多 (Too many attempts)",
        "来自您网络的无效链接过多，请在 {minutes} 分钟后再试。(Too many invalid links came from "
        "your network: please try again in {minutes} minutes.)",
    ),
    "too_large": (
        "!",
        "提交内容过大 (Too large)",
        "提交的内容超出了允许的大小，请缩短后重试。(What you sent is too large: please "
        "shorten it.)",
    ),
    "tracking_link_unknown": (
        "?",
        "查询链接无效 (Link not valid)",
        "找不到这份报修，请检查链接是否完整。(We could not find this request: please check that "
        "the link is complete.)",
    ),
    "tracking_link_expired": (
        "⌛",
        "查询链接已过期 (Link expired)",
        "这份报修已完成多时，查询链接已失效。如有疑问请拨打客服热线。(This request was completed "
        "a while ago and its link no longer works: please call our hotline.)",
    ),
    "webform_rate_limited": (
        "⏳",
        "提交过于频繁 (Too many requests)",
        "同一手机号或网络提交的报修过多，请在 {minutes} 分钟后再试，紧急情况请拨打客服热线。(Too "
        "many requests from this phone number or network: please try again in {minutes} minutes, "
        "or call our hotline if it is urgent.)",
    ),
    "webform_closed": (
        "!",
        "在线报修暂未开放 (Not open)",
        "在线报修暂时无法使用，请拨打客服热线报修。(The online form is not available: please "
        "call our hotline.)",
    ),
    "sheet_link_unknown": (
        "?",
        "服务单链接无效 (Link not valid)",
        "找不到这份维修服务单，请检查链接是否完整，或请工程师重新生成。(We could not find this "
        "service sheet: please check the link, or ask the engineer for a new one.)",
    ),
    "sheet_link_expired": (
        "⌛",
        "服务单链接已过期 (Link expired)",
        "这个签字链接已超过有效期，请工程师重新生成服务单。(This signing link has expired: please "
        "ask the engineer for a new one.)",
    ),
    "sheet_signed": (
        "✓",
        "服务单已签字 (Already signed)",
        "这份维修服务单已经签字确认，内容不能再修改。如有疑问请拨打客服热线。(This service sheet "
        "is already signed and cannot change. Please call our hotline with any question.)",
    ),
    "sheet_superseded": (
        "ⓘ",
        "该服务单已不再有效 (No longer valid)",
        "工程师已生成了新版服务单，或工单已完成，请使用最新的链接。(The engineer made a newer "
        "sheet, or the ticket is completed: please use the newest link.)",
    ),
    "error": (
        "!",
        "页面暂时无法打开 (Page not available)",
        "请稍后再试，或拨打客服热线。(Please try again later, or call our hotline.)",
    ),
}


# the web form runs its own script (and nothing else): the public pages' policy plus script-src
FORM_CSP = SECURITY_HEADERS["Content-Security-Policy"] + "; script-src 'self'"
# pages of the web form and the tracking page: (title suffix, heading)
SHEET_PAGE = ("维修服务单", ("维修服务单", "Service sheet"))
FEE_NAMES = {
    "repair": "维修费 (repair)",
    "travel": "差旅费 (travel)",
    "labour": "工时费 (labour)",
    "parts": "配件费 (parts)",
}
REQUEST_PAGE = ("在线报修", ("在线报修", "Service request"))
TRACKING_PAGE = ("报修进度", ("报修进度", "Your request"))
LABELS_FORM = {
    "request_type": ("办理事项", "what you need"),
    "product": ("产品信息", "product"),
    "product_model": ("产品型号", "model"),
    "serial_no": ("出厂编号 / 序列号", "serial number"),
    "contract_no": ("合同编号", "contract number"),
    "description": ("故障描述", "fault"),
    "contact_name": ("联系人", "your name"),
    "phone": ("手机号码", "mobile"),
    "email": ("电子邮箱（选填）", "e-mail, optional"),
    "check": ("安全验证", "anti-spam check"),
}
PLACEHOLDERS = {
    "product_model": "如 XK-200",
    "serial_no": "如 XK200-0001",
    "contract_no": "如 HT-2026-001",
}


def html(body: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response[str]:
    return Response(
        body,
        status_code=status,
        media_type=MediaType.HTML,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def _local(at: datetime | None, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if at else ""


def form_page(
    complaint: ComplaintRow,
    proposal: ComplaintProposalRow,
    timezone: str,
    *,
    values: Mapping[str, str | None] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    given = dict(values or {})
    given.setdefault("signer", complaint.ticket.contact_name)
    body = _env.get_template("complaint_form.html").render(
        complaint=complaint,
        ticket=complaint.ticket,
        proposal=proposal,
        proposed=_local(proposal.proposed_at, timezone),
        expires=_local(proposal.expires_at, timezone),
        values={k: v or "" for k, v in given.items()},
        errors=dict(errors or {}),
        labels=LABELS,
        reason_max=REASON_MAX,
        signer_max=SIGNER_MAX,
    )
    return html(body, status, {"Content-Security-Policy": FORM_CSP})


def message_page(
    state: str,
    status: int,
    *,
    minutes: int = 1,
    headers: Mapping[str, str] | None = None,
    page: tuple[str, tuple[str, str]] | None = None,
) -> Response[str]:
    icon, title, line = STATES.get(state, STATES["error"])
    which = {"page_title": page[0], "heading": page[1]} if page else {}
    body = _env.get_template("complaint_message.html").render(
        title=title, lines=[line.format(minutes=minutes)], icon=icon, ok=False, **which
    )
    return html(body, status, headers)


def request_form(
    challenge: str,
    *,
    values: Mapping[str, str | None] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    """The web form (/r/new), with what was typed and the messages when it comes back."""
    body = _env.get_template("request_form.html").render(
        challenge=challenge,
        values={k: v or "" for k, v in (values or {}).items() if k not in ("challenge", "nonce")},
        errors=dict(errors or {}),
        labels=LABELS_FORM,
        placeholders=PLACEHOLDERS,
        max_length=webform.MAX_LENGTH,
        request_types=[(t.value, names) for t, names in webform.REQUEST_TYPES.items()],
    )
    return html(body, status, {"Content-Security-Policy": FORM_CSP})


def request_thanks(ticket_no: str, link: str, phone: str) -> Response[str]:
    """The one page that shows the tracking link (its token is kept only as a hash)."""
    body = _env.get_template("request_thanks.html").render(
        ticket_no=ticket_no, link=link, phone=f"{phone[:3]}****{phone[-4:]}"
    )
    return html(body, 201)


def tracking_page(seen: webform.Tracking, timezone: str, now: datetime) -> Response[str]:
    ticket = seen.ticket
    zh, en, step = webform.CUSTOMER_STATUS[Status(ticket.status)]
    body = _env.get_template("tracking.html").render(
        ticket=ticket,
        status=(zh, en),
        step=step,
        steps=webform.STEPS,
        kind=webform.REQUEST_TYPES.get(
            RequestType(ticket.request_type), (ticket.request_type, ticket.request_type)
        ),
        opened=_local(ticket.opened_at, timezone),
        completed=_local(ticket.completed_at, timezone),
        paused=seen.paused,
        due=_local(seen.next_due, timezone),
        late=seen.next_due is not None and seen.next_due <= now,
        promise=webform.CLOCK_PROMISE[seen.next_clock] if seen.next_clock else ("", ""),
        entries=[(_local(e.at, timezone), e.text) for e in seen.entries],
    )
    return html(body, 200)


def done_page(accepted: bool, ticket_no: str) -> Response[str]:
    if accepted:
        title = "您已接受处理方案 (You accepted the resolution)"
        lines = [
            f"投诉（工单{ticket_no}）的处理方案已确认，感谢您的理解与支持。(Thank you: the "
            f"resolution of ticket {ticket_no} is confirmed.)"
        ]
    else:
        title = "您的意见已记录 (Your answer is recorded)"
        lines = [
            "我们已将您的投诉升级处理，负责人会尽快与您联系并提出新的处理方案。(Your complaint "
            "is escalated: the person in charge will contact you soon with a new proposal.)"
        ]
    body = _env.get_template("complaint_message.html").render(
        title=title, lines=lines, icon="✓", ok=True
    )
    return html(body, 200)


def _local_text(at: str | None, timezone: str) -> str:
    return _local(datetime.fromisoformat(at), timezone) if at else ""


def sheet_page(
    opened: service_sheet.Opened,
    token: str,
    timezone: str,
    *,
    values: Mapping[str, str | None] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    """The 维修服务单 to sign (its own script draws the signature), or read-only once signed."""
    sheet = opened.content
    given = {k: v for k, v in (values or {}).items() if k in ("signer", "score") and v}
    given.setdefault("signer", opened.ticket.contact_name)
    signature = opened.signature
    body = _env.get_template("sheet.html").render(
        sheet=sheet,
        times={k: _local_text(v, timezone) for k, v in sheet["times"].items()},
        work=[{"at": _local_text(w["at"], timezone), "text": w["text"]} for w in sheet["work"]],
        fee_names=FEE_NAMES,
        signature=signature,
        signed_at=_local(signature.signed_at, timezone) if signature else "",
        token=token,
        form_token=service_sheet.form_token(token),
        content_sha256=opened.sheet.content_sha256,
        expires=_local(opened.sheet.expires_at, timezone),
        values=given,
        errors=dict(errors or {}),
        signer_max=service_sheet.SIGNER_MAX,
    )
    return html(body, status, {"Content-Security-Policy": FORM_CSP})
