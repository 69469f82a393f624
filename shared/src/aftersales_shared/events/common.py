"""Value types several event contracts share (part of the contracts: change them only
compatibly)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Urgency(StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急
    CRITICAL = "critical"  # 特急


class Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Contact(Part):
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    role: str | None = Field(default=None, max_length=50)
    wechat_openid: str | None = Field(
        default=None,
        max_length=64,
        description="the person's openid at the company's WeChat official account (公众号)",
    )


class CustomerRef(Part):
    customer_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    credit_code: str | None = Field(default=None, description="统一社会信用代码")
    contacts: list[Contact] = Field(default_factory=list)


class ProductUnit(Part):
    model: str = Field(min_length=1)
    serial_no: str = Field(min_length=1)
    warranty_end: date
    description: str | None = None
    batch_no: str | None = Field(
        default=None, max_length=100, description="生产批次: the denominator of batch failure rates"
    )
    product_line: str | None = Field(default=None, max_length=100, description="产品线")


class ServiceLevel(Part):
    """What the customer is promised for one urgency; minutes of the entitlement's calendar."""

    urgency: Urgency
    response_minutes: int = Field(gt=0)
    resolution_minutes: int = Field(gt=0)
    onsite_minutes: int | None = Field(default=None, gt=0)
    loaner_after_minutes: int | None = Field(default=None, gt=0)
