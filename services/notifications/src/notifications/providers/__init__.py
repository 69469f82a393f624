"""Channels to the outside: email over SMTP (or files locally), SMS over an HTTP gateway, Aliyun or
a log file, WeChat template messages.

One module per provider (`smtp`, `files`, `gateway`, `aliyun`, `wechat`), what they share in
`base`, the e-mail's bytes in `rendering`, the HTTP client in `httpclient`; here only the choice the
settings make."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..settings import NotificationsSettings
from .aliyun import AliyunSms
from .base import EmailProvider, SmsProvider, WeChatOff, WeChatProvider
from .files import FileEmail, LogFileSms
from .gateway import HttpGatewaySms
from .smtp import SmtpEmail
from .wechat import WeChatTemplateSender


def email_provider(settings: NotificationsSettings) -> EmailProvider:
    return SmtpEmail(settings) if settings.email_provider == "smtp" else FileEmail(settings)


def sms_provider(settings: NotificationsSettings) -> SmsProvider:
    if settings.sms_provider == "http":
        if not settings.sms_http_url:
            raise ValueError("NOTIFICATIONS_SMS_HTTP_URL is required for the http SMS provider")
        return HttpGatewaySms(
            settings.sms_http_url, settings.sms_http_token, settings.sms_timeout_seconds
        )
    if settings.sms_provider == "aliyun":
        return AliyunSms(settings)
    return LogFileSms(settings.sms_log_path)


def wechat_provider(
    settings: NotificationsSettings, sessions: async_sessionmaker[AsyncSession]
) -> WeChatProvider:
    return WeChatTemplateSender(sessions, settings) if settings.wechat_enabled else WeChatOff()
