"""Settings of the tickets service (env prefix TICKETS_)."""

import ipaddress
import re
from typing import ClassVar

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from aftersales_shared.schemas import EMAIL_PATTERN
from aftersales_shared.sealing import check_public_key, dev_public_key
from aftersales_shared.settings import MIN_SECRET_BYTES, ServiceSettings
from aftersales_shared.storage import FileStorage, storage_for
from aftersales_shared.wechat import aes_key

# the public web form's challenge key in local development only (published, like the development
# JWT secret); elsewhere TICKETS_WEBFORM_SECRET, else the form is closed
DEV_WEBFORM_SECRET = "aftersales-local-dev-webform-secret-change-me"


class Engineer(BaseModel):
    """One engineer of the roster's seed (TICKETS_ENGINEERS): written into the empty roster at the
    first start; from then on supervisors keep the roster (/engineers, the console's 工程师名单)."""

    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=100)
    region: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=20)


# local development only, when no seed is configured: the demo's engineers (console/people.py)
DEMO_ENGINEERS = (
    Engineer(id="eng-zhang", name="张工", region="华东·苏州", phone="13800000001"),
    Engineer(id="eng-wang", name="王工", region="华东·无锡", phone="13800000002"),
    Engineer(id="eng-li", name="李工", region="华南·佛山", phone="13800000003"),
)


class TicketsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETS_", extra="ignore")
    service_name: ClassVar[str] = "tickets"
    default_port: ClassVar[int] = 8102

    sla_warning_fraction: float = Field(default=0.75, gt=0, lt=1)
    escalate_after_hours: float = Field(
        default=4.0, gt=0, description="breach + N hours → management"
    )
    reopen_window_days: float = Field(default=7.0, gt=0)
    low_score_follow_up: bool = True
    ticket_prefix: str = "SV"
    complaint_owner: str = Field(
        default="sup-zhang",
        min_length=1,
        max_length=100,
        description="the supervisor who owns a complaint that arrives without one (partner "
        "systems, low survey scores, an agent's intake)",
    )
    complaint_supervisors: list[str] = Field(
        default_factory=list,
        description="the other supervisors a complaint may be given to (a supervisor may always "
        "take one over herself); JSON list",
    )
    engineers: list[Engineer] = Field(
        default_factory=list,
        description="the roster's seed (id = the IdP sub, name, region, phone; JSON list), written "
        "once into the empty roster; afterwards supervisors keep it through /engineers. In local "
        "development the demo's when unset",
    )
    dispatch_roster_only: bool = Field(
        default=False,
        description="dispatch to engineers on the roster only (an id not on it refused); by "
        "default someone not on it may be dispatched to by name (a subcontractor, a colleague "
        "lent by another branch, a partner system's own engineer), while an engineer on the "
        "roster who is deactivated or on leave is refused either way",
    )
    public_base_url: str = Field(
        default="", description="where customers open /c/<token>; default http://HOST:PORT"
    )
    complaint_link_ttl_days: int = Field(
        default=14, ge=1, le=90, description="how long a proposed resolution's link works"
    )
    guess_limit: int = Field(
        default=20, ge=1, description="unknown-token attempts per client IP and window"
    )
    guess_window_seconds: float = Field(default=900.0, gt=0)
    notifications_public_key: str = Field(
        default="",
        description=(
            "notifications' link public key (URL-safe base64): complaint links leave sealed to it; "
            "local development uses the published development pair"
        ),
    )
    webform_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the public web form's proof-of-work challenges (at least 32 "
        "bytes, the same on every replica); without it the form /r/new is closed outside local "
        "development",
    )
    webform_pow_bits: int = Field(
        default=18,
        ge=1,
        le=32,
        description="leading zero bits the form's proof of work needs (2^bits SHA-256 tries on "
        "average; 18: a median of ~0.2 s on a desktop browser, ~1.4 s on a phone 4× slower; "
        "see bench/webform_pow.py)",
    )
    webform_challenge_ttl_seconds: float = Field(
        default=3600.0, gt=0, description="how long a challenge of the form may be answered"
    )
    webform_limit_per_phone: int = Field(
        default=5, ge=1, description="web form requests per contact phone and rate window"
    )
    webform_limit_per_ip: int = Field(
        default=20, ge=1, description="web form requests per client address (IPv6: per /64)"
    )
    webform_rate_window_seconds: int = Field(
        default=3600, ge=60, description="the web form's rate window (fixed windows)"
    )
    tracking_days_after_completion: int = Field(
        default=30,
        ge=1,
        description="how long a customer's tracking link /t/<token> works after completion",
    )
    service_sheet_link_hours: int = Field(
        default=72,
        ge=1,
        le=720,
        description="how long the link of a frozen 维修服务单 (/sheet/<token>) may be signed",
    )
    # the WeChat official account (公众号), issue 22 item 1: its message push endpoint /wechat
    wechat_app_id: str | None = Field(
        default=None, max_length=32, description="the official account's AppID (wx…)"
    )
    wechat_token: SecretStr | None = Field(
        default=None,
        description="the Token set in the account's server configuration (signs every push); "
        "without it /wechat answers 503",
    )
    wechat_encoding_aes_key: SecretStr | None = Field(
        default=None,
        description="the EncodingAESKey (43 characters) of safe mode; without it only plain-mode "
        "pushes are accepted",
    )
    wechat_max_clock_skew_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="a push whose signed timestamp is further than this from now is refused (a "
        "replayed push older than this finds its message forgotten after a day, not answered)",
    )
    wechat_dialogue_idle_minutes: int = Field(
        default=30, ge=1, le=1440, description="a repair dialogue left this long starts over"
    )
    wechat_limit_per_user: int = Field(
        default=5, ge=1, description="tickets one WeChat user may open per web form rate window"
    )

    # e-mail threads, issue 22 item 2: the SMTP receiver of the service mailbox
    mail_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="the port the SMTP receiver listens on (the MX or the mail gateway forwards "
        "the service mailbox here); without it no mail is received",
    )
    mail_host: str = Field(default="127.0.0.1", description="the receiver's listening address")
    mail_addresses: list[str] = Field(
        default_factory=list,
        description="the service mailbox addresses the receiver accepts mail for (JSON list, e.g. "
        '["service@example.cn"]); the first is the From of the replies',
    )
    mail_allowed_clients: list[str] = Field(
        default_factory=list,
        description="the networks (CIDR, JSON list) of the mail gateways that may deliver to the "
        "receiver; empty: any client (then keep the port unreachable from elsewhere)",
    )
    mail_max_message_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="a larger message is refused in the SMTP dialogue (552)",
    )
    mail_max_attachment_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="the file storage's limit per file"
    )
    mail_limit_per_sender: int = Field(
        default=10, ge=1, description="messages one sender may send per mail rate window"
    )
    mail_asks_per_sender: int = Field(
        default=2,
        ge=1,
        description="replies asking for the contract or serial number one sender gets per window",
    )
    mail_rate_window_seconds: int = Field(default=3600, ge=60)
    mail_relay_host: str = Field(default="127.0.0.1", description="the SMTP relay replies go to")
    mail_relay_port: int | None = Field(
        default=None, ge=1, le=65535, description="without it replies stay queued"
    )
    mail_relay_starttls: bool = False
    mail_relay_username: str | None = None
    mail_relay_password: SecretStr | None = None
    mail_send_interval_seconds: float = Field(
        default=15.0, gt=0, description="how often queued replies are tried again"
    )
    files_dir: str = Field(
        default="",
        description="where the file storage keeps attachments; default <data dir>/files",
    )
    files_s3_endpoint: str = Field(
        default="",
        description="an S3-compatible store for attachments instead of the folder (several "
        "replicas): e.g. https://s3.cn-north-1.amazonaws.com.cn, a MinIO URL; path-style",
    )
    files_s3_bucket: str = ""
    files_s3_region: str = "us-east-1"
    files_s3_access_key: str | None = None
    files_s3_secret_key: SecretStr | None = None

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        if self.webform_secret is None and self.local_dev:
            self.webform_secret = SecretStr(DEV_WEBFORM_SECRET)
        if not self.notifications_public_key and self.local_dev:
            self.notifications_public_key = dev_public_key()
        if self.notifications_public_key:
            check_public_key(self.notifications_public_key)
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        if not self.engineers and self.local_dev:
            self.engineers = list(DEMO_ENGINEERS)
        self.public_base_url = self.public_base_url.rstrip("/")
        self.mail_addresses = [a.strip().lower() for a in self.mail_addresses if a.strip()]
        for address in self.mail_addresses:
            if not re.match(EMAIL_PATTERN, address):
                raise ValueError(f"TICKETS_MAIL_ADDRESSES: {address!r} is not an e-mail address")
        if self.mail_port is not None and not self.mail_addresses:
            raise ValueError("TICKETS_MAIL_ADDRESSES is required with TICKETS_MAIL_PORT")
        for net in self.mail_allowed_clients:
            ipaddress.ip_network(net, strict=False)  # a typo stops the start, not the first mail
        if self.files_s3_endpoint and not (
            self.files_s3_bucket and self.files_s3_access_key and self.files_s3_secret_key
        ):
            raise ValueError(
                "TICKETS_FILES_S3_ENDPOINT needs TICKETS_FILES_S3_BUCKET, "
                "TICKETS_FILES_S3_ACCESS_KEY and TICKETS_FILES_S3_SECRET_KEY"
            )
        if not self.files_dir:
            self.files_dir = str(self.data_dir / "files")
        self.wechat_aes_key()  # a wrong EncodingAESKey stops the start, not the first push

    def security_problems(self) -> list[str]:
        problems = super().security_problems()
        if not self.local_dev and not self.notifications_public_key:
            problems.append(
                "TICKETS_NOTIFICATIONS_PUBLIC_KEY is not set (complaint links are sealed to "
                "notifications)"
            )
        elif not self.local_dev and self.notifications_public_key == dev_public_key():
            problems.append("TICKETS_NOTIFICATIONS_PUBLIC_KEY is the published development key")
        secret = self.webform_secret.get_secret_value() if self.webform_secret else None
        if not self.local_dev and secret is not None:
            if secret == DEV_WEBFORM_SECRET:
                problems.append("TICKETS_WEBFORM_SECRET is the published development secret")
            elif len(secret.encode()) < MIN_SECRET_BYTES:
                problems.append(f"TICKETS_WEBFORM_SECRET is shorter than {MIN_SECRET_BYTES} bytes")
        return problems

    def file_storage(self) -> FileStorage:
        """Where attachments are kept: the S3-compatible store when configured, else the folder."""
        secret = self.files_s3_secret_key
        return storage_for(
            self.files_dir,
            self.mail_max_attachment_bytes,
            s3_endpoint=self.files_s3_endpoint,
            s3_bucket=self.files_s3_bucket,
            s3_region=self.files_s3_region,
            s3_access_key=self.files_s3_access_key,
            s3_secret_key=secret.get_secret_value() if secret else None,
        )

    def wechat_aes_key(self) -> bytes | None:
        """The safe mode's AES key; None: plain mode only."""
        if self.wechat_encoding_aes_key is None:
            return None
        return aes_key(self.wechat_encoding_aes_key.get_secret_value())

    def webform_key(self) -> bytes | None:
        """The challenges' HMAC key; None: the public web form is closed."""
        return self.webform_secret.get_secret_value().encode() if self.webform_secret else None

    def complaint_owners(self) -> frozenset[str]:
        """The supervisors a complaint may be given to without taking it over oneself."""
        return frozenset({self.complaint_owner, *self.complaint_supervisors})
