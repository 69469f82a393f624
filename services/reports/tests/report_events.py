"""Events as their producers publish them, for feeding the reports read model in tests."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from aftersales_shared.events import (
    ComplaintClassifiedV1,
    ComplaintOverdueV1,
    ContractSignedV1,
    CorrectiveActionChangedV1,
    Envelope,
    ServiceCompletedV1,
    SlaBreachedV1,
    SurveyAnsweredV1,
    TicketAcknowledgedV1,
    TicketAssignedV1,
    TicketOpenedV1,
)

CONTACT = {"name": "王建国", "phone": "13800138000"}


def ref() -> str:
    return uuid.uuid4().hex[:10]


def contract(serials: list[str], model: str, batch: str, signed_at: str, **kw: Any) -> Envelope:
    data = {
        "contract_no": f"HT-{ref()}",
        "signed_at": signed_at,
        "customer": {"customer_id": f"C-{ref()}", "name": "苏州精工机床有限公司"},
        "products": [
            {"model": model, "serial_no": s, "warranty_end": "2029-12-31", "batch_no": batch}
            for s in serials
        ],
        "service_levels": [
            {"urgency": "normal", "response_minutes": 1440, "resolution_minutes": 2880}
        ],
    } | kw
    return Envelope(data=ContractSignedV1.model_validate(data), source="/tests")


def opened(opened_at: datetime, request_type: str = "quality_issue", **kw: Any) -> Envelope:
    data = {
        "ticket_id": str(uuid.uuid4()),
        "ticket_no": f"SV-{ref()}",
        "opened_at": opened_at.isoformat(),
        "channel": "phone",
        "request_type": request_type,
        "urgency": "normal",
        "description": "主轴异响",
        "customer_name": "苏州精工机床有限公司",
        "contact": CONTACT,
        "resolution_due": (opened_at + timedelta(days=3)).isoformat(),
    } | kw
    return Envelope(data=TicketOpenedV1.model_validate(data), source="/tests")


def acknowledged(ticket: TicketOpenedV1, at: datetime) -> Envelope:
    data = {
        "ticket_id": ticket.ticket_id,
        "ticket_no": ticket.ticket_no,
        "channel": ticket.channel,
        "opened_at": ticket.opened_at.isoformat(),
        "acknowledged_at": at.isoformat(),
        "acknowledge_due": (ticket.opened_at + timedelta(minutes=10)).isoformat(),
        "acknowledged_by": "agent-li",
        "urgency": ticket.urgency.value,
    }
    return Envelope(data=TicketAcknowledgedV1.model_validate(data), source="/tests")


def assigned(ticket: TicketOpenedV1, at: datetime, engineer: str = "eng-zhang") -> Envelope:
    data = {
        "ticket_id": ticket.ticket_id,
        "ticket_no": ticket.ticket_no,
        "assigned_at": at.isoformat(),
        "assignee_id": engineer,
        "assignee_kind": "engineer",
        "assigned_by": "supervisor-li",
        "urgency": ticket.urgency.value,
        "customer_name": ticket.customer_name,
        "contact": CONTACT,
    }
    return Envelope(data=TicketAssignedV1.model_validate(data), source="/tests")


def breached(ticket: TicketOpenedV1, clock: str = "resolution") -> Envelope:
    deadline = ticket.resolution_due or ticket.opened_at
    data = {
        "ticket_id": ticket.ticket_id,
        "ticket_no": ticket.ticket_no,
        "clock": clock,
        "deadline": deadline.isoformat(),
        "breached_at": (deadline + timedelta(minutes=1)).isoformat(),
        "overdue_seconds": 60,
        "urgency": ticket.urgency.value,
    }
    return Envelope(data=SlaBreachedV1.model_validate(data), source="/tests")


def completed(ticket: TicketOpenedV1, at: datetime, **kw: Any) -> Envelope:
    data = {
        "ticket_id": ticket.ticket_id,
        "ticket_no": ticket.ticket_no,
        "completed_at": at.isoformat(),
        "request_type": ticket.request_type,
        "channel": ticket.channel,
        "customer_name": ticket.customer_name,
        "contact": CONTACT,
        "confirmed_by": "王建国",
        "confirmation_method": "signature",
        "engineer_id": "eng-zhang",
        "serial_no": ticket.serial_no,
        "product_model": ticket.product_model,
    } | kw
    return Envelope(data=ServiceCompletedV1.model_validate(data), source="/tests")


def answered(ticket: TicketOpenedV1, at: datetime, scores: tuple[int, int, int]) -> Envelope:
    data = {
        "survey_id": str(uuid.uuid4()),
        "ticket_id": ticket.ticket_id,
        "ticket_no": ticket.ticket_no,
        "answered_at": at.isoformat(),
        "efficiency": scores[0],
        "attitude": scores[1],
        "professionalism": scores[2],
        "low_score": min(scores) <= 2,
        "engineer_id": "eng-zhang",
    }
    return Envelope(data=SurveyAnsweredV1.model_validate(data), source="/tests")


def action_changed(action_id: str, change: str, status: str, at: datetime, **kw: Any) -> Envelope:
    data = {
        "action_id": action_id,
        "action_no": f"CA-{action_id[:8]}",
        "change": change,
        "changed_at": at.isoformat(),
        "changed_by": "tech-wu",
        "kind": "corrective",
        "title": "加严密封件来料检验",
        "owner_department": "technical",
        "status": status,
        "due_date": "2026-10-30",
        "due_at": "2026-10-30T10:00:00Z",
        "product_line": "XK",
    } | kw
    return Envelope(data=CorrectiveActionChangedV1.model_validate(data), source="/tests")


def classified(
    ticket: TicketOpenedV1, change: str, level: str, at: datetime, kind: str | None = None
) -> Envelope:
    data = {
        "ticket_id": ticket.ticket_id,
        "ticket_no": ticket.ticket_no,
        "level": level,
        "complaint_type": kind,
        "change": change,
        "classified_at": at.isoformat(),
        "classified_by": "sup-zhang",
    }
    return Envelope(data=ComplaintClassifiedV1.model_validate(data), source="/tests")


def complaint_overdue(ticket: TicketOpenedV1, stage: str, at: datetime) -> Envelope:
    data = {
        "ticket_id": ticket.ticket_id,
        "ticket_no": ticket.ticket_no,
        "stage": stage,
        "level": "general",
        "round": 1,
        "owner_id": "sup-zhang",
        "due_at": (at - timedelta(minutes=1)).isoformat(),
        "overdue_at": at.isoformat(),
        "customer_name": ticket.customer_name,
    }
    return Envelope(data=ComplaintOverdueV1.model_validate(data), source="/tests")


def from_sample(name: str, **update: Any) -> Envelope:
    """A producer's saved sample of an event with some fields changed, as a new event."""
    from aftersales_shared.events import registry
    from aftersales_shared.events.compat import SAMPLES_DIR

    [path] = SAMPLES_DIR.glob(f"cn.aftersales.*.{name}.v1.json")
    raw = json.loads(path.read_text("utf-8"))
    env = registry.decode(raw["headers"], json.dumps(raw["body"] | update).encode())
    return Envelope(data=env.data, source="/tests")
