"""Tickets as answers: TicketOut from a row or from the values intake just wrote, pages of them."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Response

from ..models import TicketRow
from ..schemas import TicketOut, TicketPage
from ..usecases.intake import OpenedTicket

TICKET_FIELDS = [k for k in TicketOut.model_fields if k not in ("clocks", "deadlines_provisional")]


def ticket_data(t: TicketRow | OpenedTicket) -> dict[str, Any]:
    """A ticket as the plain data of TicketOut (field order included)."""
    data = {k: getattr(t, k) for k in TICKET_FIELDS}
    data["deadlines_provisional"] = any(c.provisional for c in t.clocks if c.state == "running")
    data["clocks"] = [
        {
            "kind": c.kind,
            "state": c.state,
            "target_minutes": c.target_seconds / 60,
            "deadline": c.deadline,
            "provisional": c.provisional,
            "met_at": c.met_at,
            "warned_at": c.warned_at,
            "breached_at": c.breached_at,
            "escalation_level": c.escalation_level,
            "elapsed_minutes": (c.elapsed_seconds or 0.0) / 60,
            "running_since": c.running_since,
        }
        for c in t.clocks
    ]
    return data


def ticket_out(t: TicketRow | OpenedTicket) -> TicketOut:
    return TicketOut.model_validate(ticket_data(t))


def ticket_page(rows: list[TicketRow], total: int, limit: int, offset: int) -> TicketPage:
    return TicketPage(items=[ticket_out(t) for t in rows], total=total, limit=limit, offset=offset)


def created_ticket(t: OpenedTicket) -> Response[TicketOut]:
    """201 with TicketOut's JSON, encoded straight from the values intake wrote (no second
    validation pass)."""
    return Response(msgspec.json.encode(ticket_data(t)), status_code=201, media_type=MediaType.JSON)
