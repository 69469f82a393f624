"""The audit trail as the API shows it (corrective actions, complaints, the fault catalogue,
the roster)."""

from __future__ import annotations

from datetime import datetime

from aftersales_shared.schemas import Out, Page


class AuditEntryOut(Out):
    id: int
    entity: str
    entity_id: str
    action: str
    actor: str
    at: datetime
    detail: dict


AuditPage = Page[AuditEntryOut]
