"""Saved sample payloads of every event version keep parsing; the envelope round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aftersales_shared.events import ContractSignedV1, Envelope, MalformedEvent, registry
from aftersales_shared.events.compat import SAMPLES_DIR

SAMPLES = SAMPLES_DIR
SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))


def test_every_registered_event_version_has_a_saved_sample():
    registered = {cls.ce_type() for cls in registry.all()}
    saved = {p.stem for p in SAMPLE_FILES}
    assert registered <= saved, f"add a sample payload for {sorted(registered - saved)}"


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_saved_sample_still_parses(path: Path):
    sample = json.loads(path.read_text())
    env = registry.decode(sample["headers"], json.dumps(sample["body"]).encode())
    assert env.type == path.stem
    assert env.nats_subject == sample["subject"]
    assert env.id == sample["headers"]["ce-id"] == sample["headers"]["Nats-Msg-Id"]


def test_consumers_ignore_fields_they_do_not_know():
    sample = json.loads((SAMPLES / f"{ContractSignedV1.ce_type()}.json").read_text())
    body = sample["body"] | {"added_in_a_later_minor": {"x": 1}}
    body["products"][0]["colour"] = "红"
    env = registry.decode(sample["headers"], json.dumps(body).encode())
    assert env.data.products[0].serial_no == "XK200-2026-0001"


def test_envelope_headers_are_cloudevents_binary_mode():
    sample = json.loads((SAMPLES / f"{ContractSignedV1.ce_type()}.json").read_text())
    data = ContractSignedV1.model_validate(sample["body"])
    env = Envelope(data=data, subject="HT-2026-0042", correlation_id="req-1")
    h = env.headers()
    assert h["ce-specversion"] == "1.0"
    assert h["ce-type"] == "cn.aftersales.contracts.ContractSigned.v1"
    assert h["ce-source"] == "/aftersales/contracts"
    assert h["ce-subject"] == "HT-2026-0042"
    assert h["ce-time"].endswith("Z")
    assert h["content-type"] == "application/json"
    assert h["Nats-Msg-Id"] == h["ce-id"] == env.id
    assert env.nats_subject == "contracts.contract_signed.v1"
    back = registry.decode(h, env.body())
    assert back.data == data and back.correlation_id == "req-1" and back.time == env.time


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: (h, b"[1, 2"), "not valid JSON"),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "ce-type"}, b),
            "missing CloudEvents header(s): ce-type",
        ),
        (
            lambda h, b: (h | {"ce-type": "cn.aftersales.contracts.ContractSigned.v7"}, b),
            "unknown event type or version",
        ),
        (lambda h, b: (h | {"ce-specversion": "0.3"}, b), "unsupported CloudEvents specversion"),
        (lambda h, b: (h, json.dumps({"contract_no": "X"}).encode()), "signed_at: Field required"),
        (lambda h, b: (h | {"ce-time": "yesterday"}, b), "not an RFC 3339 timestamp"),
    ],
)
def test_malformed_messages_raise_with_a_readable_reason(mutate, reason):
    sample = json.loads((SAMPLES / f"{ContractSignedV1.ce_type()}.json").read_text())
    headers, body = mutate(sample["headers"], json.dumps(sample["body"]).encode())
    with pytest.raises(MalformedEvent, match=reason.replace("(", r"\(").replace(")", r"\)")):
        registry.decode(headers, body)
