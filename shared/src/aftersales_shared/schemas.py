"""The HTTP types every service's API shares: the request and answer bases, a page of results, a
contact.

One definition here, so a phone number valid for contracts is valid for dealers, and every list
answers in the same shape (``items``, ``total``, ``limit``, ``offset``). Service-specific bodies
subclass ``In`` / ``Out``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .inputmodel import StrictIn

# what a person types as a phone number: digits, spaces, dashes, an optional leading + (landlines
# with area code, mobiles, extensions written with a dash); normalised to E.164 only where a message
# is sent (notifications)
PHONE_PATTERN = r"^\+?[0-9\- ]{5,20}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Phone = Annotated[str, Field(pattern=PHONE_PATTERN, description="phone number, e.g. 0571-88888888")]
Email = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254)]

T = TypeVar("T")


class In(StrictIn):
    """Request bodies: unknown fields refused, text trimmed, no number taken for a date or a
    flag."""


class Out(BaseModel):
    """Answers built from rows (attributes read by name)."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many match in all, and the window asked for."""

    items: list[T]
    total: int
    limit: int
    offset: int


class ContactIn(In):
    """A person to reach at a customer or dealer."""

    name: str = Field(min_length=1, max_length=100)
    phone: Phone | None = None
    email: Email | None = None
    role: str | None = Field(default=None, max_length=50)


__all__ = ["EMAIL_PATTERN", "PHONE_PATTERN", "ContactIn", "Email", "In", "Out", "Page", "Phone"]


def page_of(out: Any, rows: Sequence[Any], total: int, limit: int, offset: int) -> Any:
    """A Page of `out` models made from rows (ORM objects or mappings)."""
    return Page[out](
        items=[out.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
