"""Providers against real local servers: aiosmtpd for SMTP, a local HTTP server for the SMS APIs."""

from __future__ import annotations

import datetime as dt
import json
import ssl
from email.header import decode_header, make_header

import pytest
from local_providers import LocalSmsGateway, LocalSmtpServer, free_port

from notifications.providers.aliyun import AliyunSms, aliyun_signature
from notifications.providers.base import (
    OutgoingEmail,
    OutgoingSms,
    PermanentFailure,
    TemporaryFailure,
)
from notifications.providers.files import LogFileSms
from notifications.providers.gateway import HttpGatewaySms
from notifications.providers.smtp import SmtpEmail
from notifications.settings import NotificationsSettings


def mail(to: str = "wang@example.com", delivery_id: str = "d-1") -> OutgoingEmail:
    return OutgoingEmail(
        delivery_id=delivery_id,
        event_id="ev-1",
        to=to,
        to_name="王建国",
        subject="售后服务请求已受理：工单SV-0007",
        text="王建国，您好：\n您的工单已受理。",
        html="<p>王建国，您好：</p><p>您的工单<b>已受理</b>。</p>",
    )


def smtp_settings(port: int, **kw) -> NotificationsSettings:
    return NotificationsSettings(
        email_provider="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=3, **kw
    )


async def test_email_over_smtp_has_text_and_html_parts_and_encoded_chinese_headers():
    server = await LocalSmtpServer().start()
    smtp = SmtpEmail(smtp_settings(server.port))
    try:
        message_id = await smtp.send(mail())
        await smtp.send(mail(delivery_id="d-2"))  # reuses the pooled connection
    finally:
        await smtp.close()
        await server.stop()
    assert len(server.received) == 2
    got = server.received[0]
    assert got.rcpt_tos == ["wang@example.com"] and got.mail_from == "service@aftersales.local"
    raw_headers = got.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # 7-bit clean on the wire
    assert "=?utf-8?" in raw_headers.lower()
    msg = got.message
    assert str(make_header(decode_header(msg["Subject"]))) == "售后服务请求已受理：工单SV-0007"
    assert msg["To"].addresses[0].display_name == "王建国"
    assert msg["From"].addresses[0].display_name == "售后服务中心"
    assert msg["Message-ID"] == message_id and msg["X-Aftersales-Delivery-Id"] == "d-1"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text.get_content_charset() == "utf-8" and "您的工单已受理" in text.get_content()
    assert "<b>已受理</b>" in html.get_content()


async def test_smtp_auth_accepts_good_and_refuses_bad_credentials():
    server = await LocalSmtpServer(credentials=("svc", "s3cret")).start()
    try:
        await SmtpEmail(
            smtp_settings(server.port, smtp_username="svc", smtp_password="s3cret")
        ).send(mail())
        with pytest.raises(PermanentFailure, match="535"):
            await SmtpEmail(
                smtp_settings(server.port, smtp_username="svc", smtp_password="wrong")
            ).send(mail())
        with pytest.raises(PermanentFailure, match="530"):
            await SmtpEmail(smtp_settings(server.port)).send(mail())
    finally:
        await server.stop()
    assert len(server.received) == 1


def _self_signed(tmp_path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    return ctx


async def test_starttls_with_auth(tmp_path):
    server = await LocalSmtpServer(
        credentials=("svc", "pw"), tls_context=_self_signed(tmp_path)
    ).start()
    try:
        settings = smtp_settings(
            server.port,
            smtp_starttls=True,
            smtp_validate_certs=False,
            smtp_username="svc",
            smtp_password="pw",
        )
        await SmtpEmail(settings).send(mail())
        with pytest.raises(PermanentFailure, match="530"):  # the server demands STARTTLS first
            await SmtpEmail(smtp_settings(server.port)).send(mail())
    finally:
        await server.stop()
    assert len(server.received) == 1


async def test_smtp_rejection_is_permanent_and_outage_is_temporary():
    server = await LocalSmtpServer().start()
    server.reject["nobody@example.com"] = "550 5.1.1 mailbox unavailable"
    try:
        with pytest.raises(PermanentFailure, match="550 5.1.1 mailbox unavailable"):
            await SmtpEmail(smtp_settings(server.port)).send(mail("nobody@example.com"))
    finally:
        await server.stop()
    with pytest.raises(TemporaryFailure, match="unavailable"):
        await SmtpEmail(smtp_settings(free_port())).send(mail())


def sms(to: str = "+8613800138001") -> OutgoingSms:
    return OutgoingSms(
        delivery_id="d-9",
        to=to,
        text="【售后服务】您的工单SV-0007已受理。",
        template="ticket_opened",
        params={"ticket_no": "SV-0007"},
    )


async def test_http_gateway_success_throttling_and_failure():
    gw = await LocalSmsGateway(token="tok").start()
    provider = HttpGatewaySms(f"{gw.url}/sms", "tok", 3)
    try:
        assert await provider.send(sms()) == "msg1"
        assert gw.requests[0].body == {
            "to": "+8613800138001",
            "text": "【售后服务】您的工单SV-0007已受理。",
            "ref": "d-9",
            "template": "ticket_opened",
            "params": {"ticket_no": "SV-0007"},
        }
        gw.decide = lambda r: (429, {"error": "slow down"})
        with pytest.raises(TemporaryFailure, match="429"):
            await provider.send(sms())
        gw.decide = lambda r: (400, {"error": "invalid number"})
        with pytest.raises(PermanentFailure, match="invalid number"):
            await provider.send(sms())
        gw.decide = None
        with pytest.raises(PermanentFailure, match="401"):
            await HttpGatewaySms(f"{gw.url}/sms", "wrong", 3).send(sms())
    finally:
        await provider.close()
        await gw.stop()


def test_aliyun_signature_matches_the_documented_example():
    # the worked example of Aliyun SMS "HTTP协议及签名" (AccessKeySecret testSecret)
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_signature(params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def aliyun_settings(gw: LocalSmsGateway, secret: str = "sekret") -> NotificationsSettings:
    return NotificationsSettings(
        sms_provider="aliyun",
        aliyun_endpoint=gw.url,
        aliyun_access_key_id="LTAI-test",
        aliyun_access_key_secret=secret,
        aliyun_template_codes={"ticket_opened": "SMS_1234"},
    )


async def test_aliyun_signed_request_success_throttling_and_failure():
    gw = await LocalSmsGateway(aliyun_secret="sekret").start()
    provider = AliyunSms(aliyun_settings(gw))
    try:
        assert await provider.send(sms()) == "biz1"
        p = gw.requests[0].params
        assert (p["PhoneNumbers"], p["SignName"], p["TemplateCode"]) == (
            "13800138001",
            "售后服务",
            "SMS_1234",
        )
        assert json.loads(p["TemplateParam"]) == {"ticket_no": "SV-0007"} and p["OutId"] == "d-9"
        assert gw.requests[0].accepted  # the server recomputed the signature
        gw.decide = lambda r: (
            200,
            {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"},
        )
        with pytest.raises(TemporaryFailure, match="BUSINESS_LIMIT_CONTROL"):
            await provider.send(sms())
        gw.decide = lambda r: (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})
        with pytest.raises(PermanentFailure, match="MOBILE_NUMBER_ILLEGAL: 非法手机号"):
            await provider.send(sms())
        gw.decide = None
        bad = AliyunSms(aliyun_settings(gw, secret="not-the-secret"))
        with pytest.raises(PermanentFailure, match="SignatureDoesNotMatch"):
            await bad.send(sms())
        await bad.close()
        with pytest.raises(PermanentFailure, match="TemplateCode"):
            await provider.send(OutgoingSms("d", "+8613800138001", "x", template="unmapped"))
    finally:
        await provider.close()
        await gw.stop()


async def test_log_file_sms_is_the_local_default(tmp_path):
    settings = NotificationsSettings(data_dir=tmp_path)
    await LogFileSms(settings.sms_log_path).send(sms())
    line = json.loads(settings.sms_log_path.read_text("utf-8").splitlines()[0])
    assert line["to"] == "+8613800138001" and line["text"].startswith("【售后服务】")


async def test_every_provider_gets_the_delivery_id_as_its_idempotency_key():
    """A crash between sending and recording re-sends the same delivery: each provider can tell."""
    from notifications.providers.rendering import render_email

    gw = await LocalSmsGateway().start()
    provider = HttpGatewaySms(f"{gw.url}/sms", None, 3)
    try:
        await provider.send(sms())
        await provider.send(sms())
        keys = [
            (r.headers.get("idempotency-key"), r.headers.get("x-request-id")) for r in gw.requests
        ]
        assert keys == [("d-9", "d-9"), ("d-9", "d-9")]
    finally:
        await provider.close()
        await gw.stop()
    first, again = (
        render_email(mail(delivery_id="d-42"), "售后服务中心 <service@aftersales.local>"),
        render_email(mail(delivery_id="d-42"), "售后服务中心 <service@aftersales.local>"),
    )
    ids = [
        next(ln for ln in r.data.decode().splitlines() if ln.startswith("Message-ID:"))
        for r in (first, again)
    ]
    assert ids[0] == ids[1] == "Message-ID: <d-42@aftersales.local>"
    aliyun = AliyunSms(
        NotificationsSettings(
            sms_provider="aliyun",
            aliyun_access_key_id="id",
            aliyun_access_key_secret="secret",
            aliyun_template_codes={"ticket_opened": "SMS_1"},
        )
    )
    assert aliyun.request_params(sms())["OutId"] == "d-9"


def test_the_delivery_lease_must_outlast_a_slow_send(tmp_path):
    # a lease shorter than a send that may still be running would hand the same SMS to a second
    # sender
    with pytest.raises(ValueError, match="twice the longest provider timeout"):
        NotificationsSettings(data_dir=tmp_path, delivery_lease_seconds=15, sms_timeout_seconds=10)
    ok = NotificationsSettings(
        data_dir=tmp_path, delivery_lease_seconds=20, smtp_timeout_seconds=10
    )
    assert ok.delivery_lease_seconds == 20
    assert NotificationsSettings(data_dir=tmp_path).delivery_lease_seconds == 30
