"""Domain errors: use cases raise them, the HTTP layer turns them into 4xx with a readable
message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 422
    code = "rule_violated"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        if code is not None:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
