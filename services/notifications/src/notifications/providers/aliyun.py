"""阿里云短信 (Aliyun SMS) SendSms: RPC style, signature v1 (HMAC-SHA1 over the sorted, encoded
query)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from ..settings import NotificationsSettings
from .base import OutgoingSms, PermanentFailure, TemporaryFailure
from .httpclient import HttpClient, json_object

ALIYUN_TEMPORARY = (
    "isv.BUSINESS_LIMIT_CONTROL",
    "Throttling",
    "isp.SYSTEM_ERROR",
    "isv.DAY_LIMIT_CONTROL",
    "SignatureNonceUsed",
    "isp.RAM_PERMISSION_DENY_TEMPORARY",
)


def aliyun_encode(value: str) -> str:
    """Aliyun's percent-encoding: RFC 3986 unreserved characters kept, space as %20, * as %2A."""
    return quote(value, safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    canonical = "&".join(f"{aliyun_encode(k)}={aliyun_encode(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{aliyun_encode('/')}&{aliyun_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def aliyun_phone(e164: str) -> str:
    """Mainland numbers without +86; others as 00<country code><number>."""
    return e164[3:] if e164.startswith("+86") else "00" + e164.lstrip("+")


class AliyunSms:
    """阿里云短信 SendSms with a registered signature (SignName) and template (TemplateCode +
    TemplateParam)."""

    name = "aliyun"

    def __init__(self, settings: NotificationsSettings) -> None:
        if not (settings.aliyun_access_key_id and settings.aliyun_access_key_secret):
            raise ValueError(
                "NOTIFICATIONS_ALIYUN_ACCESS_KEY_ID and _SECRET are required for the aliyun SMS "
                "provider"
            )
        self._s = settings
        self._client = HttpClient(settings.sms_timeout_seconds)

    def request_params(self, msg: OutgoingSms, now: datetime | None = None) -> dict[str, str]:
        code = self._s.aliyun_template_codes.get(msg.template)
        if not code:
            raise PermanentFailure(
                f"未配置阿里云短信模板编号 (no Aliyun TemplateCode configured for {msg.template!r})"
            )
        params = {
            "AccessKeyId": self._s.aliyun_access_key_id or "",
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": msg.delivery_id,
            "PhoneNumbers": aliyun_phone(msg.to),
            "RegionId": self._s.aliyun_region,
            "SignName": self._s.sms_signature,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": code,
            "TemplateParam": json.dumps(msg.params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(params, self._s.aliyun_access_key_secret or "")
        return params

    async def send(self, msg: OutgoingSms) -> str | None:
        params = self.request_params(msg)
        query = "&".join(f"{aliyun_encode(k)}={aliyun_encode(v)}" for k, v in params.items())
        try:
            status, raw = await self._client.request(
                "GET", f"{self._s.aliyun_endpoint.rstrip('/')}/?{query}"
            )
        except TemporaryFailure as exc:
            raise TemporaryFailure(
                f"阿里云短信不可用 (Aliyun SMS unavailable): {exc.reason}"
            ) from exc
        data = json_object(raw)
        code = str(data.get("Code") or status)
        if status < 400 and code == "OK":
            return str(data.get("BizId") or "") or None
        reason = f"Aliyun {code}: {data.get('Message') or raw[:300].decode('utf-8', 'replace')}"
        if status >= 500 or code.startswith(ALIYUN_TEMPORARY):
            raise TemporaryFailure(reason)
        raise PermanentFailure(reason)

    async def close(self) -> None:
        await self._client.close()
