"""SMS over a generic HTTP gateway (POST JSON, bearer token, the delivery id as idempotency key)."""

from __future__ import annotations

import json

from .base import OutgoingSms, PermanentFailure, TemporaryFailure
from .httpclient import HttpClient, json_object


class HttpGatewaySms:
    """A generic SMS gateway: POST JSON {to, text, ref, template, params}; 2xx accepted, 429/5xx
    retried."""

    name = "http"

    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        self._url = url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = HttpClient(timeout, headers)

    async def send(self, msg: OutgoingSms) -> str | None:
        body = json.dumps(
            {
                "to": msg.to,
                "text": msg.text,
                "ref": msg.delivery_id,
                "template": msg.template,
                "params": msg.params,
            },
            ensure_ascii=False,
        ).encode()
        try:
            status, raw = await self._client.request(
                "POST",
                self._url,
                body=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    # one key per delivery: a gateway that honours it sends a re-send after a crash
                    # once
                    "Idempotency-Key": msg.delivery_id,
                    "X-Request-ID": msg.delivery_id,
                },
            )
        except TemporaryFailure as exc:
            raise TemporaryFailure(f"SMS gateway unavailable: {exc.reason}") from exc
        text = raw[:500].decode("utf-8", "replace")
        if status == 429 or status >= 500:
            raise TemporaryFailure(f"SMS gateway {status}: {text}")
        if status >= 400:
            raise PermanentFailure(f"SMS gateway refused ({status}): {text}")
        data = json_object(raw)
        return str(data.get("id") or data.get("message_id") or "") or None

    async def close(self) -> None:
        await self._client.close()
