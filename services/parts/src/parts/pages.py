"""The customer's quote page (/q/<token>): phone-sized, zh-CN, plain HTML, no JavaScript, no
outside resources (the security headers of every public page)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from litestar import Response

from aftersales_shared.publiclinks import SECURITY_HEADERS

from . import charges as c
from .models import QuoteRow

STYLE = """
body{font-family:-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
margin:0;background:#f4f5f7;color:#1f2329;font-size:16px;line-height:1.5}
main{max-width:480px;margin:0 auto;padding:16px}
h1{font-size:20px;margin:8px 0 4px}.muted{color:#646a73;font-size:14px}
.card{background:#fff;border-radius:10px;padding:14px;margin:12px 0;box-shadow:0 1px 2px #0001}
table{width:100%;border-collapse:collapse;font-size:14px}
td,th{padding:6px 2px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}.total td{font-weight:700;font-size:16px;border:0}
label{display:block;margin:10px 0 4px;font-weight:600}
input[type=text],textarea{width:100%;box-sizing:border-box;padding:10px;font-size:16px;
border:1px solid #c9cdd4;border-radius:8px}
.choice{display:flex;gap:10px;margin-top:6px}.choice label{flex:1;margin:0;font-weight:400;
border:1px solid #c9cdd4;border-radius:8px;padding:10px;text-align:center}
button{width:100%;margin-top:16px;padding:14px;font-size:17px;border:0;border-radius:8px;
background:#1456f0;color:#fff}.err{color:#d83931;font-size:14px}
.state{font-size:18px;font-weight:700}
"""

MESSAGES = {
    "quote_link_unknown": ("链接无效", "该报价链接无效，请核对短信中的链接，或致电客服。"),
    "expired": ("报价已过期", "该报价已过有效期，请联系客服为您重新报价。"),
    "decided": ("报价已确认", "该报价已确认，不能更改。如需调整请联系客服。"),
    "withdrawn": ("报价已撤回", "该报价已由客服撤回，不能再确认。如需维修请联系客服。"),
    "too_many_attempts": ("请稍后再试", "尝试次数过多，请{minutes}分钟后再试。"),
    "too_large": ("提交内容过大", "提交的内容过大，请精简后重试。"),
    "forbidden": ("无法提交", "请从报价页面本身提交确认。"),
    "error": ("出错了", "页面暂时无法处理您的请求，请稍后再试或致电客服。"),
}


def html(body: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response[str]:
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>维修服务报价</title><style>{STYLE}</style></head><body><main>{body}</main>"
        "</body></html>"
    )
    return Response(
        page,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def _local(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _lines(quote: QuoteRow) -> str:
    rows = "".join(
        f"<tr><td>{escape(x['description'])}</td>"
        f"<td class=n>{escape(x['quantity'])} {escape(x['unit'])}</td>"
        f"<td class=n>¥{escape(x['unit_price'])}</td><td class=n>¥{escape(x['amount'])}</td></tr>"
        for x in quote.lines
    )
    rate = f"{quote.tax_rate * 100:.0f}" if quote.tax_rate * 100 % 1 == 0 else f"{quote.tax_rate}"
    return (
        "<table><thead><tr><th>项目</th><th class=n>数量</th><th class=n>单价</th>"
        f"<th class=n>金额</th></tr></thead><tbody>{rows}</tbody></table>"
        "<table><tbody>"
        f"<tr><td>不含税金额</td><td class=n>¥{quote.net_amount:.2f}</td></tr>"
        f"<tr><td>增值税（{rate}%）</td><td class=n>¥{quote.tax_amount:.2f}</td></tr>"
        f"<tr class=total><td>合计（含税）</td><td class=n>¥{quote.total:.2f}</td></tr>"
        "</tbody></table>"
    )


def _head(quote: QuoteRow, customer: str, awaiting: bool) -> str:
    """The greeting; the promise to arrange the repair only while the quote awaits an answer (a
    decided, expired or withdrawn quote says what became of it further down)."""
    promise = "确认接受后我们将安排维修。" if awaiting else ""
    return (
        f"<h1>维修服务报价</h1><div class=muted>报价单号 {escape(quote.quote_no)} · "
        f"工单 {escape(quote.ticket_no)}</div>"
        f"<div class=card><div>{escape(customer)}，您好：</div>"
        "<div class=muted>您的设备维修不在保修（三包）范围内，以下为收费服务报价。"
        f"{promise}</div></div>"
    )


def quote_page(
    quote: QuoteRow,
    customer: str,
    timezone: str,
    now: datetime,
    *,
    values: Mapping[str, str | None] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response[str]:
    given = dict(values or {})
    state = c.quote_status(quote.status, quote.expires_at, now)
    awaiting = state is c.QuoteStatus.ISSUED
    body = _head(quote, customer, awaiting) + f"<div class=card>{_lines(quote)}"
    if quote.note:
        body += f"<p class=muted>说明：{escape(quote.note)}</p>"
    if state is not c.QuoteStatus.WITHDRAWN:
        body += f"<p class=muted>报价有效期至 {_local(quote.expires_at, timezone)}</p>"
    body += "</div>"
    if state is c.QuoteStatus.ISSUED:
        body += _form(given, error)
    elif state is c.QuoteStatus.WITHDRAWN:
        at = _local(quote.withdrawn_at, timezone) if quote.withdrawn_at else ""
        body += (
            "<div class=card><div class=state>该报价已撤回，不能再确认</div>"
            f"<p class=muted>撤回时间：{at}<br>原因：{escape(quote.withdrawal_reason or '')}</p>"
            "<p>如需维修请联系客服，我们将为您重新报价。</p></div>"
        )
    else:
        body += (
            f"<div class=card><div class=state>{_state_text(quote, state, timezone)}</div></div>"
        )
    return html(body, status)


def _state_text(quote: QuoteRow, state: c.QuoteStatus, timezone: str) -> str:
    if state is c.QuoteStatus.EXPIRED:
        return "该报价已过期，请联系客服重新报价。"
    when = _local(quote.decided_at, timezone) if quote.decided_at else ""
    signer = escape(quote.signer or "")
    if state is c.QuoteStatus.ACCEPTED:
        return f"您已于{when}接受该报价（确认人：{signer}）。我们将尽快安排维修。"
    return f"您已于{when}拒绝该报价（确认人：{signer}）。如有疑问请联系客服。"


def _form(given: Mapping[str, str | None], error: str | None) -> str:
    decision = given.get("decision")
    checked = {d: " checked" if decision == d else "" for d in ("accept", "decline")}
    err = f'<p class=err role="alert">{escape(error)}</p>' if error else ""
    return (
        f'<form class=card method="post">{err}'
        "<label>您的决定</label><div class=choice>"
        f'<label><input type="radio" name="decision" value="accept"{checked["accept"]}> 接受报价'
        "</label>"
        f'<label><input type="radio" name="decision" value="decline"{checked["decline"]}> 不接受'
        "</label></div>"
        '<label for="signer">确认人姓名</label>'
        f'<input type="text" id="signer" name="signer" maxlength="{c.SIGNER_MAX}" '
        f'value="{escape(given.get("signer") or "", quote=True)}" autocomplete="name">'
        '<label for="reason">不接受的原因（选填）</label>'
        f'<textarea id="reason" name="reason" rows="3" maxlength="{c.REASON_MAX}">'
        f"{escape(given.get('reason') or '')}</textarea>"
        '<button type="submit">提交</button></form>'
    )


def message_page(
    state: str, status: int, *, minutes: int = 1, headers: Mapping[str, str] | None = None
) -> Response[str]:
    title, text = MESSAGES.get(state, MESSAGES["error"])
    body = f"<h1>{escape(title)}</h1><div class=card>{escape(text.format(minutes=minutes))}</div>"
    return html(body, status, headers)
