"""Versioned event contracts and their CloudEvents envelope (binary mode over NATS headers)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

SPEC_VERSION = "1.0"
# Limits of the envelope, declared once: the decoder refuses an event beyond them (it is
# dead-lettered at once with the reason) and every column that keeps an event id is this wide, so
# nothing is ever cut.
MAX_EVENT_ID = 200
MAX_EVENT_BODY_BYTES = 512 * 1024
MAX_EVENT_SOURCE = 200
CONTENT_TYPE = "application/json"
TYPE_PREFIX = "cn.aftersales"
MSG_ID_HEADER = "Nats-Msg-Id"
CE_PREFIX = "ce-"
CORRELATION_HEADER = "ce-correlationid"


class EventData(BaseModel):
    """Body of an event: one class per (name, version), owned by the producing service."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    NAME: ClassVar[str]
    VERSION: ClassVar[int]
    PRODUCER: ClassVar[str]

    @classmethod
    def ce_type(cls) -> str:
        return f"{TYPE_PREFIX}.{cls.PRODUCER}.{cls.NAME}.v{cls.VERSION}"

    @classmethod
    def subject(cls) -> str:
        return f"{cls.PRODUCER}.{_snake(cls.NAME)}.v{cls.VERSION}"


E = TypeVar("E", bound=EventData)


@dataclass(frozen=True)
class Envelope(Generic[E]):
    """An event with its CloudEvents attributes."""

    data: E
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    source: str = ""
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    correlation_id: str | None = None

    @property
    def type(self) -> str:
        return self.data.ce_type()

    @property
    def nats_subject(self) -> str:
        return self.data.subject()

    def headers(self) -> dict[str, str]:
        headers = {
            f"{CE_PREFIX}specversion": SPEC_VERSION,
            f"{CE_PREFIX}id": self.id,
            f"{CE_PREFIX}source": self.source or f"/aftersales/{self.data.PRODUCER}",
            f"{CE_PREFIX}type": self.type,
            f"{CE_PREFIX}time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "content-type": CONTENT_TYPE,
            MSG_ID_HEADER: self.id,
        }
        if self.subject:
            headers[f"{CE_PREFIX}subject"] = self.subject
        if self.correlation_id:
            headers[CORRELATION_HEADER] = self.correlation_id
        return headers

    def body(self) -> bytes:
        return self.data.model_dump_json().encode()


class MalformedEvent(Exception):
    """An incoming message that can never be handled: it goes to the dead letters at once."""


class EventRegistry:
    """Maps CloudEvents types to their data classes, so consumers can decode any known version."""

    def __init__(self) -> None:
        self._types: dict[str, type[EventData]] = {}

    def register(self, cls: type[EventData]) -> type[EventData]:
        existing = self._types.get(cls.ce_type())
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {cls.ce_type()} registered twice")
        self._types[cls.ce_type()] = cls
        return cls

    def get(self, ce_type: str) -> type[EventData] | None:
        return self._types.get(ce_type)

    def all(self) -> list[type[EventData]]:
        return list(self._types.values())

    def decode(self, headers: Mapping[str, str] | None, body: bytes) -> Envelope[Any]:
        """Turn a NATS message into an Envelope or raise MalformedEvent with a readable reason."""
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        missing = [
            a for a in ("id", "type", "source", "specversion") if not headers.get(CE_PREFIX + a)
        ]
        if missing:
            raise MalformedEvent(
                f"missing CloudEvents header(s): {', '.join(CE_PREFIX + m for m in missing)}"
            )
        if headers[f"{CE_PREFIX}specversion"] != SPEC_VERSION:
            raise MalformedEvent(
                f"unsupported CloudEvents specversion {headers[f'{CE_PREFIX}specversion']!r}"
            )
        event_id = headers[f"{CE_PREFIX}id"]
        if len(event_id) > MAX_EVENT_ID or any(ord(ch) < 32 for ch in event_id):
            raise MalformedEvent(
                f"ce-id must be 1–{MAX_EVENT_ID} printable characters (got {len(event_id)})"
            )
        if len(headers[f"{CE_PREFIX}source"]) > MAX_EVENT_SOURCE:
            raise MalformedEvent(f"ce-source longer than {MAX_EVENT_SOURCE} characters")
        if len(body) > MAX_EVENT_BODY_BYTES:
            raise MalformedEvent(
                f"body of {len(body)} bytes is over the {MAX_EVENT_BODY_BYTES} byte limit"
            )
        ce_type = headers[f"{CE_PREFIX}type"]
        cls = self.get(ce_type)
        if cls is None:
            raise MalformedEvent(f"unknown event type or version {ce_type!r}")
        try:  # parsed and validated in one pass by pydantic-core (half the CPU of json + model)
            data = cls.model_validate_json(body)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0] if exc.error_count() else {}
            if first.get("type") == "json_invalid":  # bad JSON, bad UTF-8, numbers out of range
                reason = str(first.get("msg", ""))
                if "recursion limit" in reason:
                    raise MalformedEvent("body is nested too deeply") from None
                raise MalformedEvent(f"body is not valid JSON: {reason[:200]}") from None
            raise MalformedEvent(f"{ce_type} failed validation: {_errors(exc)}") from exc
        except (
            RecursionError,
            ValueError,
            TypeError,
            OverflowError,
        ) as exc:  # whatever a hostile body raises
            raise MalformedEvent(f"{ce_type} could not be read: {type(exc).__name__}") from None
        return Envelope(
            data=data,
            id=event_id,
            source=headers[f"{CE_PREFIX}source"],
            time=_parse_time(headers.get(f"{CE_PREFIX}time")),
            subject=headers.get(f"{CE_PREFIX}subject"),
            correlation_id=headers.get(CORRELATION_HEADER),
        )


registry = EventRegistry()


def event(cls: type[E]) -> type[E]:
    """Class decorator: register an event contract in the global registry."""
    registry.register(cls)
    return cls


def _errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(body)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedEvent(f"ce-time {value!r} is not an RFC 3339 timestamp") from exc


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
