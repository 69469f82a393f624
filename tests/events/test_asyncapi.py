"""Every service's AsyncAPI document describes every message a partner must publish or read: payload
from the event class, the CloudEvents headers, the correlation id header; every consumed and
published subject is in it."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from aftersales_shared.service import asyncapi_json

SERVICES = ["contracts", "tickets", "surveys", "notifications", "dealers", "reports", "parts"]


@pytest.mark.parametrize("package", SERVICES)
def test_every_message_is_documented_for_a_partner(package):
    app_mod = importlib.import_module(f"{package}.app")
    settings = importlib.import_module(f"{package}.settings")
    cls = next(
        v for k, v in vars(settings).items() if k.endswith("Settings") and k != "ServiceSettings"
    )
    rt = app_mod.create_app(cls(nats_url="nats://127.0.0.1:1")).state["runtime"]
    doc = json.loads(asyncapi_json(rt))
    assert doc["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in doc["channels"].values()}
    consumed = {sub.subject for sub in rt.inbox.subscriptions.values()}
    published = {c.subject() for c in rt.publishes}
    assert consumed <= addresses and published <= addresses, (
        consumed - addresses,
        published - addresses,
    )
    schemas = doc["components"]["schemas"]
    for name, message in doc["components"]["messages"].items():
        assert message["correlationId"] == {"location": "$message.header#/ce-correlationid"}, name
        headers = message["headers"]["properties"]
        assert {"ce-id", "ce-type", "ce-source", "ce-specversion", "ce-correlationid"} <= set(
            headers
        ), name
        payload = message["payload"]
        if "$ref" in payload:
            payload = schemas[payload["$ref"].rsplit("/", 1)[1]]
        assert payload.get("properties"), f"{name}: empty payload"
    if package == "tickets":
        requested = next(
            m for n, m in doc["components"]["messages"].items() if "ticket_requested" in n
        )
        payload = schemas[requested["payload"]["$ref"].rsplit("/", 1)[1]]
        assert {"external_ref", "channel", "description", "contact"} <= set(payload["properties"])
        assert requested["headers"]["properties"]["ce-type"] == {
            "const": "cn.aftersales.partners.TicketRequested.v1"
        }


OFFICIAL_SCHEMA = Path(__file__).resolve().parent / "asyncapi" / "asyncapi-3.0.0.schema.json"


@pytest.mark.parametrize("package", SERVICES)
def test_every_document_is_valid_against_the_official_asyncapi_schema(package):
    """The JSON Schema the official AsyncAPI parser uses (tests/events/asyncapi/README.md); a broken
    copy of the same document must fail, so the check can fail."""
    import jsonschema_rs

    validator = jsonschema_rs.validator_for(json.loads(OFFICIAL_SCHEMA.read_text()))
    app_mod = importlib.import_module(f"{package}.app")
    settings = importlib.import_module(f"{package}.settings")
    cls = next(
        v for k, v in vars(settings).items() if k.endswith("Settings") and k != "ServiceSettings"
    )
    doc = json.loads(
        asyncapi_json(app_mod.create_app(cls(nats_url="nats://127.0.0.1:1")).state["runtime"])
    )
    errors = [f"{e.instance_path}: {e.message[:200]}" for e in validator.iter_errors(doc)]
    assert not errors, errors[:10]
    broken = json.loads(json.dumps(doc))
    channel = next(iter(broken["channels"].values()))
    channel["address"] = 42
    broken["info"].pop("title")
    assert len(list(validator.iter_errors(broken))) >= 2
