"""Local defaults that need no account: e-mails as .eml files, SMS as JSON lines in a log file."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from ..settings import NotificationsSettings
from .base import OutgoingEmail, OutgoingSms
from .rendering import render_email


class FileEmail:
    """Local default: each email is written as an .eml file under the data folder."""

    name = "file"

    def __init__(self, settings: NotificationsSettings) -> None:
        self._dir = settings.mail_dir
        self._sender = settings.mail_from

    async def send(self, msg: OutgoingEmail) -> str | None:
        email = render_email(msg, self._sender)
        self._dir.mkdir(parents=True, exist_ok=True)
        path = self._dir / f"{msg.delivery_id}.eml"
        await asyncio.to_thread(path.write_bytes, email.data)
        return email.message_id

    async def close(self) -> None:
        return None


class LogFileSms:
    """Local default: SMS are appended as JSON lines to <data dir>/sms.log (no account needed)."""

    name = "log"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = asyncio.Lock()

    async def send(self, msg: OutgoingSms) -> str | None:
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "to": msg.to,
                "text": msg.text,
                "template": msg.template,
                "delivery_id": msg.delivery_id,
            },
            ensure_ascii=False,
        )
        self._path.parent.mkdir(parents=True, exist_ok=True)
        async with self._lock:
            await asyncio.to_thread(_append, self._path, line + "\n")
        return msg.delivery_id

    async def close(self) -> None:
        return None


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)
