"""Events owned by the surveys service."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .base import EventData, event
from .common import Contact


@event
class SurveyRequestedV1(EventData):
    """A satisfaction survey invitation is due: notifications sends the link."""

    NAME = "SurveyRequested"
    VERSION = 1
    PRODUCER = "surveys"

    survey_id: str
    ticket_id: str
    ticket_no: str
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    link: str = Field(description="public survey page URL with its single-use token")
    expires_at: datetime
    language: str = "zh-CN"


@event
class SurveyRequestedV2(EventData):
    """
    A satisfaction survey invitation is due. The link is sealed for the notifications service alone
    (aftersales_shared.sealing): the stream holds no usable token; `link_masked` is what staff may
    see.
    """

    NAME = "SurveyRequested"
    VERSION = 2
    PRODUCER = "surveys"

    survey_id: str
    ticket_id: str
    ticket_no: str
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    link_masked: str = Field(
        description="the survey page URL with the token cut short (for logs and staff)"
    )
    link_sealed: str = Field(
        description="the full link in a libsodium sealed box to notifications' public key"
    )
    expires_at: datetime
    language: str = "zh-CN"


@event
class SurveyAnsweredV1(EventData):
    """A customer (or an agent on the phone for them) answered a survey."""

    NAME = "SurveyAnswered"
    VERSION = 1
    PRODUCER = "surveys"

    survey_id: str
    ticket_id: str
    ticket_no: str
    answered_at: datetime
    efficiency: int = Field(ge=1, le=5, description="效率")
    attitude: int = Field(ge=1, le=5, description="态度")
    professionalism: int = Field(ge=1, le=5, description="专业性")
    recommend: int | None = Field(default=None, ge=0, le=10)
    comment: str | None = None
    low_score: bool = Field(
        description="a score at or below the threshold: tickets opens a follow-up"
    )
    recorded_by_agent: str | None = Field(
        default=None, description="set when an agent recorded a phone answer"
    )
    customer_id: str | None = None
    engineer_id: str | None = None
    dealer_id: str | None = None
    product_model: str | None = None
    channel: str | None = Field(
        default=None, description="the channel the surveyed ticket came in on (not the answer's)"
    )
    answered_via: str | None = Field(
        default=None,
        description=(
            "how the answer came in: web (the customer on the survey page) or phone (an agent "
            "recorded it during a call); absent in events published before it was added"
        ),
    )
