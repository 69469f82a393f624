"""Every service's OpenAPI document lists what its routes can answer (aftersales_shared.openapidoc):
the errors of the input layer, auth and the domain; no token on the public routes; bodies that
refuse unknown fields and nulls say so; exports say their media type. (tests/test_api_fuzz.py checks
the running services against it.)"""

from __future__ import annotations

import importlib

import pytest
from litestar._openapi.plugin import OpenAPIPlugin

from aftersales_tools.catalog import SERVICES


def _doc(name: str) -> dict:
    info = next(s for s in SERVICES if s.name == name)
    app = importlib.import_module(f"{name}.app").create_app(
        info.settings_class()(nats_url="nats://127.0.0.1:1")
    )
    return app.plugins.get(OpenAPIPlugin).provide_openapi_schema()


@pytest.mark.parametrize("name", [s.name for s in SERVICES])
def test_every_operation_lists_its_error_answers(name):
    doc = _doc(name)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = set(op["responses"])
            if path in {"/health", "/ready", "/metrics", "/asyncapi.json"}:
                assert op["security"] == [] and "401" not in codes, (path, method)
            else:
                assert {"400", "401", "403", "404", "409", "422"} <= codes, (method, path, codes)
            if method in {"post", "put", "patch"}:
                assert "413" in codes, (method, path)
    assert doc["components"]["schemas"]["Error"]["required"] == ["status_code", "detail"]


def test_bodies_say_what_they_refuse_and_exports_their_media_type():
    contracts = _doc("contracts")
    schemas = contracts["components"]["schemas"]
    assert schemas["ContractDraftIn"]["additionalProperties"] is False
    patch = schemas["ContractPatch"]["properties"]
    # calendar may not be cleared: not nullable; dealer_id may
    assert "null" not in str(patch["calendar"]) and "null" in str(patch["dealer_id"])
    dealers = _doc("dealers")
    export = dealers["paths"]["/cards/export.csv"]["get"]["responses"]["200"]["content"]
    assert list(export) == ["text/csv"]
    tickets = _doc("tickets")
    year = tickets["paths"]["/calendars/{calendar_scope}/years/{year}"]["get"]["responses"]["200"][
        "content"
    ]
    assert set(year) == {"text/csv", "application/yaml"}
