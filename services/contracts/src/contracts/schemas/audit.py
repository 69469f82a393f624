"""The audit trail as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales_shared.schemas import Out


class AuditOut(Out):
    id: int
    entity: str
    entity_key: str
    action: str
    actor: str
    actor_roles: list[str]
    at: datetime
    detail: dict[str, Any]
