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


@event
class ReturnVisitOverdueV1(EventData):
    """A return visit (回访) after a service was not done by its due time (working days after
    completion): the supervisors hear."""

    NAME = "ReturnVisitOverdue"
    VERSION = 1
    PRODUCER = "surveys"

    visit_id: str
    ticket_id: str
    ticket_no: str
    reason: str = Field(description="why visited: critical, complaint, sampled")
    due_at: datetime
    due_provisional: bool = Field(
        default=False, description="the due time ran past the last imported holiday year"
    )
    attempts: int = Field(ge=0, description="calls that did not reach the customer")
    customer_id: str | None = None
    customer_name: str
    dealer_id: str | None = None


@event
class ReturnVisitRecordedV1(EventData):
    """A return visit (回访) ended: the customer reached (the problem solved or persisting), or not
    reached after the allowed attempts. A persisting problem reopens the work in tickets."""

    NAME = "ReturnVisitRecorded"
    VERSION = 1
    PRODUCER = "surveys"

    visit_id: str
    ticket_id: str
    ticket_no: str
    reason: str = Field(description="why visited: critical, complaint, sampled")
    outcome: str = Field(description="reached, problem_persists, unreachable")
    note: str | None = None
    visited_at: datetime
    visited_by: str
    attempts: int = Field(ge=1, description="calls made, this one included")
    on_time: bool = Field(description="ended by its due time")
    customer_id: str | None = None
    customer_name: str
    dealer_id: str | None = None
    engineer_id: str | None = None
    product_model: str | None = None
