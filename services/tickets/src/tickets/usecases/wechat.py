"""The WeChat official account's conversation (issue 22 item 1): a pushed message in, the text to
reply out.

A menu click (EventKey REPAIR) or the keyword 报修 starts a short repair dialogue — product (serial
or contract number, else the model), the fault, the contact's name and mobile — that opens a ticket
through the web form's intake (channel wechat, actor `customer:wechat`, the openid kept on the
ticket). 我的工单 (or the MY_TICKETS click) answers with the status of the user's tickets; 取消
cancels. Where the dialogue stands is kept per openid in the database and forgotten after
`TICKETS_WECHAT_DIALOGUE_IDLE_MINUTES` idle.

The platform pushes a message again (three times) when no reply came within 5 s: every message is
recorded by its MsgId (an event by FromUserName + CreateTime) in the transaction that answers it,
with its reply, so a retry gets the same reply and moves nothing a second time (on PostgreSQL a
retry arriving while the first is still being answered waits on the first's row, then reads its
reply).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.db import upsert_insert
from aftersales_shared.errors import DomainError
from aftersales_shared.events import SlaClock
from aftersales_shared.wechat import WeChatProtocolError

from ..domain import Channel, ClockState, RequestType, Status
from ..models import EntitledUnitRow, EntitlementRow, TicketRow, WeChatDialogueRow, WeChatMessageRow
from ..settings import TicketsSettings
from . import webform

log = structlog.get_logger(__name__)

ACTOR = "customer:wechat"
RECEIVED = "已收到您的微信报修，客服将尽快与您联系 (request received over WeChat)"
MENU_REPAIR, MENU_MY_TICKETS = "REPAIR", "MY_TICKETS"
REPAIR_WORDS = frozenset({"报修", "维修", "我要报修", "故障报修"})
STATUS_WORDS = frozenset({"我的工单", "工单查询", "查询工单", "进度"})
CANCEL_WORDS = frozenset({"取消", "退出"})
MAX_TICKETS_LISTED = 5

KEEP_ANSWERED = timedelta(days=1)  # the platform retries within ~15 s; a day is plenty
PRODUCT, FAULT, CONTACT = "product", "fault", "contact"
ASK = {
    PRODUCT: "请回复产品的出厂编号（设备铭牌上的序列号）或合同编号；都不清楚可回复产品型号。"
    "回复“取消”可随时退出。",
    FAULT: "请简要描述故障现象，如：主轴异响、屏幕黑屏、无法开机。",
    CONTACT: "请回复联系人姓名和11位手机号码，如：张三 13912345678",
}
HELP = (
    "您好，这里是售后服务中心。\n回复“报修”或点击菜单“我要报修”提交维修申请；"
    "回复“我的工单”查询处理进度。"
)
WELCOME = "感谢关注售后服务中心！\n" + HELP


@dataclass(frozen=True)
class Incoming:
    """A pushed message, decoded from its XML."""

    openid: str  # FromUserName
    account: str  # ToUserName: the official account's id, the reply's FromUserName
    msg_type: str
    content: str = ""
    event: str = ""
    event_key: str = ""
    msg_id: str = ""
    create_time: str = ""

    @classmethod
    def of(cls, fields: dict[str, str]) -> Incoming:
        openid, account = fields.get("FromUserName", ""), fields.get("ToUserName", "")
        msg_type = fields.get("MsgType", "")
        if not (0 < len(openid) <= 64 and account and msg_type):
            raise WeChatProtocolError("FromUserName, ToUserName and MsgType are required")
        return cls(
            openid=openid,
            account=account,
            msg_type=msg_type,
            content=fields.get("Content", "").strip(),
            event=fields.get("Event", "").lower(),
            event_key=fields.get("EventKey", ""),
            msg_id=fields.get("MsgId", ""),
            create_time=fields.get("CreateTime", ""),
        )

    @property
    def key(self) -> str:
        """What the platform's retries of this message share."""
        if self.msg_id:
            return f"msg:{self.msg_id}"[:100]
        return f"evt:{self.openid}:{self.create_time}:{self.event}"[:100]


async def answer(
    session: AsyncSession, msg: Incoming, settings: TicketsSettings, now: datetime
) -> str:
    """The reply to a pushed message (empty: none), in the caller's transaction; a retry of a
    message already answered gets the same reply and changes nothing."""
    table = WeChatMessageRow.__table__
    fresh = await session.scalar(
        upsert_insert(session, table)
        .values(key=msg.key, openid=msg.openid, reply="", created_at=now)
        .on_conflict_do_nothing()
        .returning(table.c.key)
    )
    if fresh is None:
        log.info("tickets.wechat_retry", key=msg.key)
        return await session.scalar(select(table.c.reply).where(table.c.key == msg.key)) or ""
    reply = await _respond(session, msg, settings, now)
    await session.execute(update(table).where(table.c.key == msg.key).values(reply=reply))
    return reply


async def _respond(
    session: AsyncSession, msg: Incoming, settings: TicketsSettings, now: datetime
) -> str:
    if msg.msg_type == "event":
        if msg.event == "subscribe":
            return WELCOME
        if msg.event == "click" and msg.event_key == MENU_REPAIR:
            return await _start(session, msg.openid, settings, now)
        if msg.event == "click" and msg.event_key == MENU_MY_TICKETS:
            return await my_tickets(session, msg.openid, settings, now)
        return ""  # unsubscribe, VIEW, location…: nothing to say
    if msg.msg_type != "text":
        dialogue = await _dialogue(session, msg.openid, now)
        if dialogue is not None:
            return "请用文字回复。" + ASK[dialogue.step]
        return HELP
    text = msg.content
    if text in CANCEL_WORDS:
        gone = await session.execute(
            delete(WeChatDialogueRow).where(WeChatDialogueRow.openid == msg.openid)
        )
        return "已取消本次报修。" if gone.rowcount else "当前没有进行中的报修。" + HELP
    if text in STATUS_WORDS:
        return await my_tickets(session, msg.openid, settings, now)
    if text in REPAIR_WORDS:
        return await _start(session, msg.openid, settings, now)
    dialogue = await _dialogue(session, msg.openid, now)
    if dialogue is None:
        return HELP
    return await _advance(session, dialogue, text, settings, now)


async def _dialogue(session: AsyncSession, openid: str, now: datetime) -> WeChatDialogueRow | None:
    """The user's dialogue if one is under way (an idle one is gone), locked for this answer."""
    row = await session.get(WeChatDialogueRow, openid, with_for_update=True)
    if row is not None and row.expires_at <= now:
        await session.delete(row)
        return None
    return row


async def _start(
    session: AsyncSession, openid: str, settings: TicketsSettings, now: datetime
) -> str:
    """A new dialogue (one upsert: two messages of one user at once cannot both insert)."""
    table = WeChatDialogueRow.__table__
    values = {
        "step": PRODUCT,
        "answers": {},
        "updated_at": now,
        "expires_at": now + timedelta(minutes=settings.wechat_dialogue_idle_minutes),
    }
    await session.execute(
        upsert_insert(session, table)
        .values(openid=openid, **values)
        .on_conflict_do_update(index_elements=[table.c.openid], set_=values)
    )
    return "好的，我们来登记维修申请（共3步）。\n第1步：" + ASK[PRODUCT]


def _save(
    row: WeChatDialogueRow, step: str, answers: dict, settings: TicketsSettings, now: datetime
) -> None:
    row.step, row.answers, row.updated_at = step, answers, now
    row.expires_at = now + timedelta(minutes=settings.wechat_dialogue_idle_minutes)


def _plain(text: str, most: int) -> str | None:
    """The answer as one clean line or paragraph, or None when it is empty, too long or has
    control characters."""
    if not text or len(text) > most or any(ord(c) < 32 and c not in "\n\t" for c in text):
        return None
    return text


async def _advance(
    session: AsyncSession,
    row: WeChatDialogueRow,
    text: str,
    settings: TicketsSettings,
    now: datetime,
) -> str:
    answers = dict(row.answers or {})
    if row.step == PRODUCT:
        product = _plain(text, 100)
        if product is None or "\n" in product:
            return "编号不能为空，最多100个字，请重新输入。" + ASK[PRODUCT]
        answers.update(await _which_number(session, product))
        _save(row, FAULT, answers, settings, now)
        return "第2步：" + ASK[FAULT]
    if row.step == FAULT:
        fault = _plain(text, 2000)
        if fault is None or len(fault) < 2:
            return "故障描述至少2个字，最多2000个字。" + ASK[FAULT]
        answers["description"] = fault
        _save(row, CONTACT, answers, settings, now)
        return "第3步：" + ASK[CONTACT]
    name, phone = _contact(text)
    if phone is None:
        return "没有找到11位手机号码。" + ASK[CONTACT]
    if not name or len(name) > 100:
        return "请同时填写联系人姓名（最多100个字）。" + ASK[CONTACT]
    return await _open(session, row, answers, name, phone, settings, now)


async def _which_number(session: AsyncSession, product: str) -> dict[str, str]:
    """A serial number of an entitled unit, else a contract number, else taken as the model — told
    apart by the entitlements, as the web form's intake does (nothing of them is shown)."""
    if await session.scalar(
        select(EntitledUnitRow.serial_no).where(EntitledUnitRow.serial_no == product)
    ):
        return {"serial_no": product}
    if await session.scalar(
        select(EntitlementRow.contract_no).where(EntitlementRow.contract_no == product)
    ):
        return {"contract_no": product}
    return {"product_model": product}


PHONE_IN_TEXT = re.compile(r"(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d){8}")


def _contact(text: str) -> tuple[str, str | None]:
    """(name, 11-digit mobile) from "张三 13912345678" in either order."""
    found = PHONE_IN_TEXT.search(text)
    if found is None:
        return text.strip(), None
    phone = webform.mobile(found.group(0))
    name = (text[: found.start()] + " " + text[found.end() :]).strip(" \t\n,，:：;；")
    return " ".join(name.split()), phone


async def _open(
    session: AsyncSession,
    row: WeChatDialogueRow,
    answers: dict[str, str],
    name: str,
    phone: str,
    settings: TicketsSettings,
    now: datetime,
) -> str:
    req = webform.WebRequest(
        request_type=RequestType.QUALITY_ISSUE,
        description=answers.get("description", ""),
        contact_name=name,
        phone=phone,
        product_model=answers.get("product_model"),
        serial_no=answers.get("serial_no"),
        contract_no=answers.get("contract_no"),
    )
    window = settings.webform_rate_window_seconds
    try:
        async with session.begin_nested():  # a refusal writes nothing of the ticket
            await webform.count(
                session,
                f"wechat:{row.openid}",
                settings.wechat_limit_per_user,
                window,
                now,
                "微信号",
            )
            await webform.count(
                session, f"phone:{phone}", settings.webform_limit_per_phone, window, now, "手机号"
            )
            done = await webform.open_for_customer(
                session, req, Channel.WECHAT, ACTOR, RECEIVED, settings, now, row.openid
            )
    except webform.TooManyRequests:
        return f"提交过于频繁，请{window // 60}分钟后再试，或拨打客服电话。"
    except DomainError as exc:
        log.info("tickets.wechat_refused", error=str(exc))
        return f"报修未能提交：{exc}。回复“报修”重新开始。"
    await session.delete(row)
    log.info("tickets.wechat_ticket_opened", ticket_no=done.ticket_no)
    link = f"{settings.public_base_url}/t/{done.token}"
    return (
        f"报修成功！工单号：{done.ticket_no}\n客服将尽快与您联系。\n查看进度：{link}\n"
        "回复“我的工单”可随时查询。"
    )


async def my_tickets(
    session: AsyncSession, openid: str, settings: TicketsSettings, now: datetime
) -> str:
    """The user's latest tickets with their status in the customer's words and the next promised
    time."""
    tickets = (
        await session.scalars(
            select(TicketRow)
            .where(TicketRow.contact_wechat_openid == openid)
            .order_by(TicketRow.opened_at.desc(), TicketRow.ticket_no.desc())
            .limit(MAX_TICKETS_LISTED)
        )
    ).all()
    if not tickets:
        return "您还没有通过微信提交的工单。回复“报修”提交维修申请。"
    lines = ["您的工单："]
    for t in tickets:
        status = webform.CUSTOMER_STATUS[Status(t.status)][0]
        line = f"{t.ticket_no}｜{status}｜{_short(t.description)}"
        promise = _next_promise(t, settings)
        if promise:
            line += f"\n  {promise}"
        lines.append(line)
    return "\n".join(lines)


def _short(text: str, most: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def _next_promise(ticket: TicketRow, settings: TicketsSettings) -> str | None:
    if Status(ticket.status) is Status.COMPLETED:
        return None
    running = [
        c for c in ticket.clocks if c.state == ClockState.RUNNING.value and c.deadline is not None
    ]
    if not running:
        return None
    first = min(running, key=lambda c: c.deadline)
    what = webform.CLOCK_PROMISE[SlaClock(first.kind)][0]
    local = first.deadline.astimezone(ZoneInfo(settings.business_timezone))
    return f"预计{local:%m月%d日 %H:%M}前{what}"


async def purge(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """Forget answered messages older than a day and idle dialogues (best effort, after the push's
    own commit; both deletes use an index on their time)."""
    try:
        async with sessions.begin() as session:
            await session.execute(
                delete(WeChatMessageRow).where(WeChatMessageRow.created_at < now - KEEP_ANSWERED)
            )
            await session.execute(
                delete(WeChatDialogueRow).where(WeChatDialogueRow.expires_at < now)
            )
    except Exception as exc:  # another replica purging the same rows: next time
        log.info("tickets.wechat_purge_skipped", error=f"{type(exc).__name__}: {exc}")
