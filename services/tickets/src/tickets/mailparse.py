"""An e-mail of the service mailbox read into what the tickets need (issue 22 item 2), and whether
it must be dropped unanswered — no I/O, no database.

Read with the standard library's parser (policy default): RFC 2047 headers, bodies in UTF-8, GBK,
GB2312 or GB18030 (the GB charsets are all read as GB18030, their superset: mail programs label
GBK text GB2312), an HTML-only body turned into text, attachments kept as bytes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import parseaddr
from html.parser import HTMLParser

GB_CHARSETS = frozenset({"gb2312", "gbk", "gb18030", "euc-cn", "x-gbk", "cp936", "gb_2312-80"})
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
QUOTE_MARKERS = re.compile(
    r"^(?:-{2,}\s*(?:原始邮件|Original Message)\s*-{2,}|On .{1,200} wrote:|在.{1,200}写道[:：]"
    r"|发件人[:：]|From:\s)",
    re.MULTILINE,
)
MAX_TEXT = 20000
LIST_PRECEDENCE = frozenset({"bulk", "junk", "list"})
ROBOT_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply"})


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Inbound:
    message_id: str  # <…>; one made from the content's hash when the message has none
    sender: str  # the From address, lower case
    sender_name: str
    subject: str
    text: str
    in_reply_to: list[str]
    references: list[str]
    headers: dict[str, str]  # the loop-relevant headers, lower-case names
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """The messages this one answers, nearest first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen[:50]


def _ids(value: str | None) -> list[str]:
    return MESSAGE_ID.findall(value or "")


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header the parser could not decode
        return ""
    return " ".join(str(value).split()) if value is not None else ""


class _Text(HTMLParser):
    BREAKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self.BREAKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BREAKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "utf-8").lower()
    if charset in GB_CHARSETS:
        charset = "gb18030"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def _body_and_files(msg: EmailMessage) -> tuple[str, list[Attachment]]:
    plain: list[str] = []
    html: list[str] = []
    files: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        ctype = part.get_content_type()
        if (
            disposition == "attachment"
            or (filename and disposition != "inline")
            or (filename and not ctype.startswith("text/"))
        ):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                files.append(Attachment(str(filename or "attachment"), ctype, data))
        elif ctype == "text/plain":
            plain.append(_decoded(part))
        elif ctype == "text/html":
            html.append(html_to_text(_decoded(part)))
    text = "\n".join(plain) if any(p.strip() for p in plain) else "\n".join(html)
    return text.replace("\r\n", "\n").strip()[:MAX_TEXT], files


def parse(raw: bytes) -> Inbound:
    """The message as the tickets read it (lenient: what cannot be decoded is left out)."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    name, address = parseaddr(_header(msg, "from"))
    ids = _ids(_header(msg, "message-id"))
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()}@no-message-id>"
    text, files = _body_and_files(msg)
    headers = {
        h: _header(msg, h)
        for h in (
            "auto-submitted",
            "precedence",
            "x-autoreply",
            "x-autorespond",
            "x-auto-response-suppress",
            "list-id",
            "list-unsubscribe",
            "return-path",
        )
        if msg.get(h) is not None
    }
    return Inbound(
        message_id=message_id,
        sender=address.strip().lower(),
        sender_name=name.strip(),
        subject=_header(msg, "subject")[:255],
        text=text,
        in_reply_to=_ids(_header(msg, "in-reply-to")),
        references=_ids(_header(msg, "references")),
        headers=headers,
        attachments=files,
    )


def drop_reason(msg: Inbound, envelope_from: str, own: frozenset[str]) -> str | None:
    """Why the message must be dropped without a ticket or a reply (RFC 3834 and what
    auto-responders really send), or None."""
    h = msg.headers
    if h.get("auto-submitted", "no").split(";")[0].strip().lower() != "no":
        return "auto_submitted"
    if h.get("precedence", "").strip().lower() in LIST_PRECEDENCE:
        return "precedence_bulk"
    if "x-autoreply" in h or "x-autorespond" in h:
        return "auto_reply_header"
    if "list-id" in h or "list-unsubscribe" in h:
        return "mailing_list"
    if not envelope_from.strip("<> ") or h.get("return-path", "").strip() == "<>":
        return "null_return_path"
    if not msg.sender or "@" not in msg.sender:
        return "no_sender"
    local = msg.sender.split("@", 1)[0]
    if local in ROBOT_LOCALPARTS or local.startswith("mailer-daemon"):
        return "robot_sender"
    if msg.sender in own or envelope_from.strip("<> ").lower() in own:
        return "own_address"
    return None


def strip_quoted(text: str) -> str:
    """The new part of a reply: up to the quoted original ("> " lines, "在…写道：",
    "-----原始邮件-----")."""
    found = QUOTE_MARKERS.search(text)
    if found is not None and found.start() > 0:
        text = text[: found.start()]
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()
