"""Settings of the parts service (env prefix PARTS_)."""

from decimal import Decimal
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from aftersales_shared.sealing import check_public_key, dev_public_key
from aftersales_shared.settings import ServiceSettings
from aftersales_shared.storage import FileStorage, storage_for


class PartsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PARTS_", extra="ignore")
    service_name: ClassVar[str] = "parts"
    default_port: ClassVar[int] = 8108

    public_base_url: str = Field(
        default="", description="where customers open /q/<token> (quotes); default http://HOST:PORT"
    )
    quote_valid_days: int = Field(
        default=7, ge=1, le=90, description="a quote's link works this many calendar days"
    )
    default_tax_rate: Decimal = Field(
        default=Decimal("0.13"), ge=0, le=1, description="VAT rate of quotes and invoices"
    )
    guess_limit: int = Field(
        default=20, ge=1, description="unknown-token attempts per client IP and window"
    )
    guess_window_seconds: float = Field(default=900.0, gt=0)
    expense_submit_working_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="an expense claim is submitted within this many working days after the trip "
        "ends (company working calendar, 调休 counted); later: 逾期将不予报销",
    )
    expense_approval_working_days: int = Field(
        default=3,
        ge=1,
        le=30,
        description="a submitted expense claim is approved or rejected within this many working "
        "days, else ExpenseClaimOverdue (stage approval) reaches the supervisors",
    )
    expense_calendar_id: str = Field(
        default="default",
        min_length=1,
        max_length=40,
        description="the working calendar the claim deadline counts on (tickets publishes it)",
    )
    receipt_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024, description="one receipt's limit"
    )
    files_dir: str = Field(
        default="", description="where receipts are kept; default <data dir>/parts-files"
    )
    files_s3_endpoint: str = Field(
        default="",
        description="an S3-compatible store for receipts instead of the folder (several "
        "replicas): e.g. https://s3.cn-north-1.amazonaws.com.cn, a MinIO URL; path-style",
    )
    files_s3_bucket: str = ""
    files_s3_region: str = "us-east-1"
    files_s3_access_key: str | None = None
    files_s3_secret_key: SecretStr | None = None
    notifications_public_key: str = Field(
        default="",
        description="notifications' link public key (URL-safe base64): quote links leave sealed "
        "to it; local development uses the published development pair",
    )

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        if not self.notifications_public_key and self.local_dev:
            self.notifications_public_key = dev_public_key()
        if self.notifications_public_key:
            check_public_key(self.notifications_public_key)
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        self.public_base_url = self.public_base_url.rstrip("/")
        if not self.files_dir:
            self.files_dir = str(self.data_dir / "parts-files")
        self.file_storage()  # an incomplete S3 configuration stops the start, not the first upload

    def security_problems(self) -> list[str]:
        problems = super().security_problems()
        if not self.local_dev and not self.notifications_public_key:
            problems.append("PARTS_NOTIFICATIONS_PUBLIC_KEY is not set (quote links are sealed)")
        elif not self.local_dev and self.notifications_public_key == dev_public_key():
            problems.append("PARTS_NOTIFICATIONS_PUBLIC_KEY is the published development key")
        return problems

    def file_storage(self) -> FileStorage:
        """Where receipts are kept: the S3-compatible store when configured, else the folder."""
        secret = self.files_s3_secret_key
        return storage_for(
            self.files_dir,
            self.receipt_max_bytes,
            s3_endpoint=self.files_s3_endpoint,
            s3_bucket=self.files_s3_bucket,
            s3_region=self.files_s3_region,
            s3_access_key=self.files_s3_access_key,
            s3_secret_key=secret.get_secret_value() if secret else None,
        )
