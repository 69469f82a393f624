"""The compatibility gate of event contracts (aftersales_shared.events.compat): every event
version's JSON Schema is committed; a change to an existing version must not break its consumers or
the events already in the stream — otherwise the author is told to publish a new version."""

from __future__ import annotations

import copy
import json

import pytest

from aftersales_shared.events import ContractSignedV1, registry
from aftersales_shared.events.compat import breaking_changes, render, schema_of, schema_path

VERSIONS = sorted(registry.all(), key=lambda c: c.ce_type())


@pytest.mark.parametrize("cls", VERSIONS, ids=lambda c: c.ce_type())
def test_every_event_version_is_committed_and_compatible(cls):
    path = schema_path(cls.ce_type())
    assert path.exists(), (
        f"{cls.ce_type()}: new event version — commit its schema: aftersales event-schemas --write"
    )
    committed, current = json.loads(path.read_text()), schema_of(cls)
    problems = breaking_changes(committed, current)
    assert not problems, (
        f"{cls.ce_type()} changed incompatibly: {problems}. Keep this version as it was and "
        "publish "
        f"{cls.__name__[:-1]}{int(cls.__name__[-1]) + 1 if cls.__name__[-1].isdigit() else 2} "
        "beside it"
    )
    assert path.read_text() == render(current), (
        f"{cls.ce_type()}: a compatible change — refresh the committed schema: aftersales "
        "event-schemas --write"
    )


BASE = schema_of(ContractSignedV1)


def _changed(edit) -> list[str]:  # type: ignore[no-untyped-def]
    new = copy.deepcopy(BASE)
    edit(new)
    return breaking_changes(BASE, new)


def test_a_removed_field_is_breaking():
    assert _changed(lambda s: s["properties"].pop("calendar")) == ["calendar: field removed"]


def test_a_newly_required_field_is_breaking():
    def edit(s):  # type: ignore[no-untyped-def]
        s["properties"]["region"] = {"type": "string"}
        s["required"].append("region")

    assert _changed(edit) == ["region: field newly required"]


def test_a_changed_or_narrowed_type_is_breaking():
    def narrow(s):  # type: ignore[no-untyped-def]
        s["$defs"]["Contact"]["properties"]["name"]["maxLength"] = 20

    def retype(s):  # type: ignore[no-untyped-def]
        s["properties"]["contract_no"] = {"type": "integer"}

    assert _changed(narrow) == ["customer.contacts[].name: maxLength narrowed from 100 to 20"]
    assert _changed(retype)[0].startswith(
        "contract_no: type changed from ['string'] to ['integer']"
    )


def test_an_enum_value_removed_or_added_is_breaking():
    urgencies = BASE["$defs"]["ServiceLevel"]["properties"]["urgency"]
    target = (
        urgencies if "enum" in urgencies else BASE["$defs"][urgencies["$ref"].rsplit("/", 1)[1]]
    )
    assert "enum" in target

    def add(s):  # type: ignore[no-untyped-def]
        node = s["$defs"]["ServiceLevel"]["properties"]["urgency"]
        node = node if "enum" in node else s["$defs"][node["$ref"].rsplit("/", 1)[1]]
        node["enum"].append("apocalyptic")

    assert any("values added" in p and "apocalyptic" in p for p in _changed(add))


def test_a_new_optional_field_is_compatible():
    def edit(s):  # type: ignore[no-untyped-def]
        s["properties"]["region"] = {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
        }

    assert _changed(edit) == []
