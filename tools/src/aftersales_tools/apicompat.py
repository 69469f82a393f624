"""The compatibility gate of the HTTP APIs: each service's OpenAPI document is committed
(`services/<name>/openapi.json`), and a change that would break a client fails unless its path is
versioned (`/v2/...`):

- an operation removed;
- a parameter or a request body that becomes required, a request field removed, or one whose type,
  enum or constraints change as in an event version (aftersales_shared.events.compat);
- a success answer removed, or a field of it removed or changed (a field that becomes required is
  fine).

`aftersales api-schemas --write` refreshes the committed documents after a compatible change;
tests/test_api_schemas.py runs the gate.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

from aftersales_shared.events.compat import breaking_changes_within

METHODS = ("get", "put", "post", "patch", "delete")
VERSIONED = re.compile(r"^/v\d+/")


def committed_path(service: str) -> Path:
    """services/<name>/openapi.json beside the service's pyproject (the package lives in
    services/<name>/src)."""
    package = importlib.import_module(service)
    return Path(package.__file__).resolve().parents[2] / "openapi.json"


def current_openapi(service: str) -> dict[str, Any]:
    from litestar._openapi.plugin import OpenAPIPlugin

    from .catalog import service as info_of

    info = info_of(service)
    app = importlib.import_module(f"{service}.app").create_app(
        info.settings_class().offline(nats_url="nats://127.0.0.1:1")
    )
    return json.loads(
        json.dumps(app.plugins.get(OpenAPIPlugin).provide_openapi_schema(), default=str)
    )


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _json_schema(holder: dict[str, Any]) -> dict[str, Any] | None:
    content = holder.get("content") or {}
    media = content.get("application/json")
    return media.get("schema") if media else None


def breaking_api_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    odefs = old.get("components", {}).get("schemas", {})
    ndefs = new.get("components", {}).get("schemas", {})
    problems: list[str] = []
    for path, item in old.get("paths", {}).items():
        if VERSIONED.match(path):
            continue
        for method in METHODS:
            if method not in item:
                continue
            op, where = item[method], f"{method.upper()} {path}"
            nop = new.get("paths", {}).get(path, {}).get(method)
            if nop is None:
                problems.append(f"{where}: operation removed")
                continue
            oparams = {(p["name"], p["in"]): p for p in op.get("parameters", [])}
            for p in nop.get("parameters", []):
                key, before = (p["name"], p["in"]), oparams.get((p["name"], p["in"]))
                if p.get("required") and not (before and before.get("required")):
                    problems.append(f"{where}: parameter {p['name']} ({p['in']}) is now required")
                if before is not None:
                    problems += breaking_changes_within(
                        before.get("schema", {}),
                        p.get("schema", {}),
                        odefs,
                        ndefs,
                        f"{where} parameter {key[0]}",
                        "send",
                    )
            obody, nbody = op.get("requestBody"), nop.get("requestBody")
            if nbody and nbody.get("required") and not (obody and obody.get("required")):
                problems.append(f"{where}: a request body is now required")
            if obody and nbody:
                os_, ns_ = _json_schema(obody), _json_schema(nbody)
                if os_ is not None and ns_ is not None:
                    problems += breaking_changes_within(
                        os_, ns_, odefs, ndefs, f"{where} body", "send"
                    )
            for status, answer in op.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                nanswer = nop.get("responses", {}).get(status)
                if nanswer is None:
                    problems.append(f"{where}: answer {status} removed")
                    continue
                os_, ns_ = _json_schema(answer), _json_schema(nanswer)
                if os_ is not None and ns_ is not None:
                    problems += breaking_changes_within(
                        os_, ns_, odefs, ndefs, f"{where} answer {status}", "read"
                    )
    return problems
