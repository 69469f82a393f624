"""The AsyncAPI 3 document of a service, complete enough for a partner to publish from it:
FastStream's document plus every message's payload schema (consumed ones too), the CloudEvents
headers and the right correlation id."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from faststream.specification import AsyncAPI

from .events import EventData, registry
from .events.base import MAX_EVENT_ID

if TYPE_CHECKING:
    from .service import Runtime


def asyncapi_json(rt: Runtime) -> str:
    doc = _spec(rt, rt.broker)
    if rt.inbox.spec_broker.subscribers:  # bulk subscriptions: pulled outside FastStream
        _merge(doc, _spec(rt, rt.inbox.spec_broker))
    return json.dumps(complete_asyncapi(doc), ensure_ascii=False)


def _spec(rt: Runtime, broker: Any) -> dict[str, Any]:
    spec = AsyncAPI(
        broker,
        title=f"Aftersales {rt.settings.service_name}",
        version="1.0.0",
        description=f"Events the {rt.settings.service_name} service publishes and consumes",
    )
    return json.loads(spec.to_specification().to_json())  # type: ignore[no-any-return]


def _merge(doc: dict[str, Any], more: dict[str, Any]) -> None:
    """Add the channels, operations and components of `more` to `doc`."""
    for key in ("channels", "operations"):
        doc.setdefault(key, {}).update(more.get(key, {}))
    components = doc.setdefault("components", {})
    for key, values in more.get("components", {}).items():
        components.setdefault(key, {}).update(values)


def _envelope_headers(cls: type[EventData]) -> dict[str, Any]:
    """The CloudEvents 1.0 binary-mode headers every message carries (JSON Schema)."""
    text = {"type": "string", "minLength": 1}
    return {
        "type": "object",
        "required": ["ce-specversion", "ce-id", "ce-source", "ce-type", "content-type"],
        "properties": {
            "ce-specversion": {"const": "1.0"},
            "ce-id": {
                **text,
                "maxLength": MAX_EVENT_ID,
                "description": "unique per event; also Nats-Msg-Id",
            },
            "Nats-Msg-Id": {
                **text,
                "maxLength": MAX_EVENT_ID,
                "description": "= ce-id (JetStream de-duplication)",
            },
            "ce-source": {
                **text,
                "examples": [f"/aftersales/{cls.PRODUCER}", "/partners/erp-east"],
            },
            "ce-type": {"const": cls.ce_type()},
            "ce-time": {"type": "string", "format": "date-time"},
            "ce-subject": {
                "type": "string",
                "description": "the business key, e.g. a ticket or contract number",
            },
            "ce-correlationid": {
                "type": "string",
                "description": "the request or event this one follows from",
            },
            "content-type": {"const": "application/json"},
        },
    }


def complete_asyncapi(doc: dict[str, Any]) -> dict[str, Any]:
    """FastStream documents consumed messages with empty payloads (the inbox takes the raw message)
    and points correlationId at a header that does not exist. Every message gets its event's JSON
    Schema as payload, the CloudEvents headers, and correlationId at `ce-correlationid`."""
    by_subject = {cls.subject(): cls for cls in registry.all()}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    channels = doc.get("channels", {})
    for name, message in doc.get("components", {}).get("messages", {}).items():
        channel = channels.get(name.split(":", 1)[0], {})
        cls = by_subject.get(channel.get("address", ""))
        if cls is None:
            continue
        payload = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        for key, sub_schema in payload.pop("$defs", {}).items():
            schemas.setdefault(key, sub_schema)
        ref = message.get("payload", {}).get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            schemas[ref.rsplit("/", 1)[1]] = payload
        else:
            message["payload"] = payload
        message["headers"] = _envelope_headers(cls)
        message["correlationId"] = {"location": "$message.header#/ce-correlationid"}
        message["name"], message["contentType"] = cls.ce_type(), "application/json"
        message.setdefault(
            "summary", (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else cls.NAME
        )
    return doc
