"""Settings of the notifications service (env prefix NOTIFICATIONS_)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from aftersales_shared.sealing import check_private_key, dev_private_key
from aftersales_shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")
    service_name: ClassVar[str] = "notifications"
    default_port: ClassVar[int] = 8104

    # which event notifies whom: the packaged defaults unless a file is named
    rules_path: Path | None = Field(
        default=None,
        description="YAML rules file: the seed of the stored rules (version 1) and the defaults "
        "a restore brings back (default: the packaged rules.yaml)",
    )
    templates_path: Path | None = Field(
        default=None, description="YAML templates file (default: packaged)"
    )
    default_language: Literal["zh-CN", "en"] = "zh-CN"

    # email
    email_provider: Literal["smtp", "file"] = "file"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_validate_certs: bool = True
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_pool_size: int = Field(default=4, ge=1, le=64)
    mail_from: str = "售后服务中心 <service@aftersales.local>"

    # sms
    sms_provider: Literal["log", "http", "aliyun"] = "log"
    sms_signature: str = Field(default="售后服务", min_length=2, max_length=12)
    sms_max_chars: int = Field(default=200, ge=40, le=500, description="signature included")
    sms_http_url: str | None = None
    sms_http_token: str | None = None
    sms_timeout_seconds: float = Field(default=10.0, gt=0)
    aliyun_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: str | None = None
    aliyun_region: str = "cn-hangzhou"
    aliyun_template_codes: dict[str, str] = Field(
        default_factory=dict, description="template name → SMS_xxx code"
    )

    # WeChat template messages (the official account's 模板消息), issue 22 item 1
    wechat_app_id: str | None = Field(
        default=None, max_length=32, description="the official account's AppID; unset: no wechat"
    )
    wechat_app_secret: SecretStr | None = Field(
        default=None, description="the account's AppSecret (fetches the access token)"
    )
    wechat_api_base: str = Field(
        default="https://api.weixin.qq.com",
        description="the WeChat API's base URL (a local stand-in in tests)",
    )
    wechat_template_ids: dict[str, str] = Field(
        default_factory=dict,
        description="template name (templates.yaml) → the WeChat template_id registered for it; a "
        "template without one is not sent on WeChat",
    )
    wechat_data_keys: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="per template name: our data key (first, remark, or an sms_params name) → "
        "the key the registered WeChat template uses (e.g. ticket_no → keyword1)",
    )
    wechat_url: str | None = Field(
        default=None, description="the page a template message opens when tapped (optional)"
    )
    wechat_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="the whole of one send: token refresh, the call and its one retry",
    )
    wechat_token_refresh_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="the access token is refreshed when it has less than this left",
    )

    # delivery
    scheduler_claimers: int = Field(
        default=1, ge=1, le=32, description="PostgreSQL: claimers splitting due deliveries"
    )
    outbox_linger_seconds: float = Field(
        default=0.1,
        ge=0,
        le=5,
        description=(
            "NotificationSent/Failed are informational: the relay gathers them for this long"
        ),
    )
    record_linger_seconds: float = Field(
        default=0.05,
        ge=0,
        le=5,
        description=(
            "the worker records sent deliveries in one transaction per this interval (at most)"
        ),
    )
    planning_concurrency: int = Field(
        default=1,
        ge=1,
        le=16,
        description=(
            "transactions planning deliveries at once per event type (the consumer keeps "
            "fetching meanwhile)"
        ),
    )
    delivery_concurrency: int = Field(default=16, ge=1, le=256)
    delivery_max_attempts: int = Field(default=10, ge=1, le=100)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=600.0, gt=0)
    duty_calendar_id: str = Field(
        default="default",
        max_length=64,
        description=(
            "the working-time calendar (kept from tickets' CalendarChanged) that decides when a "
            "duty:<group> alert goes to the whole group and when to the person on the rota"
        ),
    )
    alert_digest_seconds: float = Field(
        default=120.0,
        ge=0,
        le=3600,
        description=(
            "an alert to a person about a subject (a ticket) goes out at once; more about the same "
            "subject within this window wait for its end and go out as one digest (0: never digest)"
        ),
    )
    delivery_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "a claimed delivery not finished by then is retried (a process killed mid-send "
            "leaves its claims "
            "this long); must exceed twice the longest provider timeout, so a live slow send is "
            "never taken twice"
        ),
    )

    # survey links arrive sealed to this service (aftersales_shared.sealing); opened only to send
    # them
    link_private_key: str = Field(
        default="",
        description=(
            "private key (URL-safe base64, 32 bytes) that opens survey links; its public half "
            "goes to surveys as "
            "SURVEYS_NOTIFICATIONS_PUBLIC_KEY; local development uses the published development "
            "pair"
        ),
    )

    # defaults for contacts that come with an event and are not registered recipients
    default_quiet_hours: str | None = Field(
        default="22:00-08:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$"
    )
    default_rate_limit_per_hour: int = Field(default=10, ge=1)

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        if not self.link_private_key and self.local_dev:
            self.link_private_key = dev_private_key()
        if self.link_private_key:
            check_private_key(self.link_private_key)

    @model_validator(mode="after")
    def _lease_outlasts_sends(self) -> NotificationsSettings:
        timeouts = [self.sms_timeout_seconds, self.smtp_timeout_seconds]
        if self.wechat_app_id:  # WeChat's timeout counts only where WeChat is configured
            timeouts.append(self.wechat_timeout_seconds)
        slowest = max(timeouts)
        if self.delivery_lease_seconds < 2 * slowest:
            raise ValueError(
                f"NOTIFICATIONS_DELIVERY_LEASE_SECONDS ({self.delivery_lease_seconds:g}) must be "
                "at least twice the "
                f"longest provider timeout ({slowest:g} s): a send still running would be handed "
                "out again"
            )
        return self

    def security_problems(self) -> list[str]:
        problems = super().security_problems()
        if not self.local_dev and not self.link_private_key:
            problems.append(
                "NOTIFICATIONS_LINK_PRIVATE_KEY is not set (survey links arrive sealed to it)"
            )
        elif not self.local_dev and self.link_private_key == dev_private_key():
            problems.append("NOTIFICATIONS_LINK_PRIVATE_KEY is the published development key")
        return problems

    @property
    def wechat_enabled(self) -> bool:
        return bool(self.wechat_app_id and self.wechat_app_secret)

    @property
    def sms_log_path(self) -> Path:
        return self.data_dir / "sms.log"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"
