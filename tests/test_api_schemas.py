"""The compatibility gate of the HTTP APIs (aftersales_tools.apicompat): each service's OpenAPI
document is committed; a change that would break a client fails with the reason unless the path is
versioned."""

from __future__ import annotations

import copy
import json

import pytest

from aftersales_tools.apicompat import (
    breaking_api_changes,
    committed_path,
    current_openapi,
    render,
)
from aftersales_tools.catalog import SERVICES


@pytest.mark.parametrize("name", [s.name for s in SERVICES])
def test_every_service_api_is_committed_and_compatible(name):
    path = committed_path(name)
    assert path.exists(), f"{name}: commit its OpenAPI document: aftersales api-schemas --write"
    committed, current = json.loads(path.read_text()), current_openapi(name)
    problems = breaking_api_changes(committed, current)
    assert not problems, f"{name}: breaking API change — version the path (/v2/...): {problems}"
    assert path.read_text() == render(current), (
        f"{name}: the API changed compatibly — refresh: aftersales api-schemas --write"
    )


DOC = current_openapi("tickets")


def _after(edit) -> list[str]:  # type: ignore[no-untyped-def]
    new = copy.deepcopy(DOC)
    edit(new)
    return breaking_api_changes(DOC, new)


def test_a_removed_operation_breaks_unless_versioned():
    assert _after(lambda d: d["paths"]["/tickets/{no}"].pop("get")) == [
        "GET /tickets/{no}: operation removed"
    ]
    old = copy.deepcopy(DOC)
    old["paths"]["/v1/tickets"] = old["paths"]["/tickets"]
    assert breaking_api_changes(old, DOC) == []  # a versioned path may go


def test_a_parameter_that_becomes_required_breaks():
    def edit(d):  # type: ignore[no-untyped-def]
        d["paths"]["/tickets"]["get"]["parameters"].append(
            {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
        )

    assert _after(edit) == ["GET /tickets: parameter region (query) is now required"]


def test_a_removed_or_retyped_answer_field_breaks_but_a_newly_required_one_does_not():
    schemas = DOC["components"]["schemas"]
    name = next(n for n in schemas if n.startswith("TicketOut"))

    def removed(d):  # type: ignore[no-untyped-def]
        d["components"]["schemas"][name]["properties"].pop("urgency")

    def required(d):  # type: ignore[no-untyped-def]
        d["components"]["schemas"][name].setdefault("required", []).append("dealer_id")

    assert any("urgency: field removed" in p for p in _after(removed))
    assert _after(required) == []


def test_a_new_required_request_field_breaks_and_a_new_optional_one_does_not():
    name = "TicketIn"
    assert name in DOC["components"]["schemas"]

    def required(d):  # type: ignore[no-untyped-def]
        d["components"]["schemas"][name]["properties"]["region"] = {"type": "string"}
        d["components"]["schemas"][name]["required"].append("region")

    def optional(d):  # type: ignore[no-untyped-def]
        d["components"]["schemas"][name]["properties"]["region"] = {"type": "string"}

    assert any("region: field newly required" in p for p in _after(required))
    assert _after(optional) == []


def _urgency_pattern(pattern: str):  # type: ignore[no-untyped-def]
    def edit(d):  # type: ignore[no-untyped-def]
        for p in d["paths"]["/tickets"]["get"]["parameters"]:
            if p["name"] == "urgency":
                p["schema"]["pattern"] = pattern

    return edit


def test_a_parameter_pattern_may_offer_more_choices_but_not_fewer_or_other_rules():
    assert _after(_urgency_pattern("^(normal|urgent|critical|low)$")) == []
    assert _after(_urgency_pattern("^(normal|urgent)$")) == [
        "GET /tickets parameter urgency: pattern changed from '^(normal|urgent|critical)$' "
        "to '^(normal|urgent)$'"
    ]
    assert len(_after(_urgency_pattern("^[a-z]+$"))) == 1


def test_a_nested_field_is_judged_as_its_parent_is_read_or_sent():
    """A new required field inside an answer's nested object (TicketOut.clocks[] → ClockOut) is
    fine; inside a request body's nested object (TicketIn.contact → ContactIn) it breaks."""
    assert {"ClockOut", "ContactIn"} <= set(DOC["components"]["schemas"])

    def answer(d):  # type: ignore[no-untyped-def]
        clock = d["components"]["schemas"]["ClockOut"]
        clock["properties"]["paused_total_seconds"] = {"type": "integer"}
        clock.setdefault("required", []).append("paused_total_seconds")

    def request(d):  # type: ignore[no-untyped-def]
        contact = d["components"]["schemas"]["ContactIn"]
        contact["properties"]["region"] = {"type": "string"}
        contact.setdefault("required", []).append("region")

    assert _after(answer) == []
    assert any("region: field newly required" in p for p in _after(request))
