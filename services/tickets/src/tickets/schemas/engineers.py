"""The engineer roster: engineers, leave, the import."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from aftersales_shared.patch import NoNullsUnlessClearable
from aftersales_shared.schemas import In, Out


class EngineerOut(Out):
    id: str = Field(description="the IdP subject (sub) the engineer's token carries")
    name: str
    region: str
    phone: str
    open_tickets: int = Field(description="tickets assigned to this engineer and not completed")
    skills: list[str] = Field(default_factory=list, description="skills or product lines")
    active: bool = True
    on_leave: bool = Field(default=False, description="on leave now (not offered by the picker)")
    leave_until: date | None = Field(
        default=None, description="the last day of leave (business time zone); null: open-ended"
    )
    available: bool = Field(default=True, description="active and not on leave: dispatchable")
    updated_at: datetime | None = None
    updated_by: str | None = None


class EngineerIn(In):
    """A new engineer on the roster (checked with zh-CN messages by the use case)."""

    id: str = Field(max_length=100, description="the IdP subject (sub)")
    name: str = Field(max_length=100)
    region: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=30, description="mainland mobile, 11 digits")
    skills: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)


class EngineerPatch(NoNullsUnlessClearable, In):
    """Change what is sent; `active: false` deactivates (never deleted: tickets name them)."""

    name: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=30)
    skills: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=50)
    active: bool | None = None


class LeaveIn(In):
    """On leave until a day (inclusive, business time zone; null: until further notice), or back
    (`on_leave: false`)."""

    on_leave: bool
    until: date | None = None


class EngineerImportOut(Out):
    created: int
    updated: int
    unchanged: int
