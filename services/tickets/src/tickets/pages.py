"""The complaint confirmation page (投诉处理确认书, /c/<token>): Jinja2 templates, autoescaped, in
Chinese with the English beside it; no script, no CDN; the security headers of every public page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import MediaType, Response

from aftersales_shared.publiclinks import SECURITY_HEADERS

from .models import ComplaintProposalRow, ComplaintRow
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
        "提交的内容超出了允许的大小，请缩短原因后重试。(What you sent is too large: please "
        "shorten the reason.)",
    ),
    "error": (
        "!",
        "页面暂时无法打开 (Page not available)",
        "请稍后再试，或拨打客服热线。(Please try again later, or call our hotline.)",
    ),
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
    return html(body, status)


def message_page(
    state: str,
    status: int,
    *,
    minutes: int = 1,
    headers: Mapping[str, str] | None = None,
) -> Response[str]:
    icon, title, line = STATES.get(state, STATES["error"])
    body = _env.get_template("complaint_message.html").render(
        title=title, lines=[line.format(minutes=minutes)], icon=icon, ok=False
    )
    return html(body, status, headers)


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
