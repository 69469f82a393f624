"""The OpenAPI document says everything a route can answer, for every service (one pass over the
generated schema).

Litestar documents a route's success and its validation error. A client (and schemathesis in CI)
also meets:
- 401/403 from the JWT middleware and the role guards (routes that need a token);
- 404 for an id nobody has or the caller may not see, 409 for a state that forbids the change, 413
  for a body over the size limit, 422 for a domain rule, 429 for a guess limit, 400 for bad
  encodings and parameters (aftersales_shared.inputguard, errors.DomainError);
- no token at all on the public operational routes (/health, /ready, /metrics, /asyncapi.json and
  each service's public prefixes): `security: []` there;
- request bodies that refuse unknown fields (`extra="forbid"`): `additionalProperties: false`; PATCH
  bodies that refuse null except for clearable fields (aftersales_shared.patch): those fields are
  not nullable;
- non-JSON answers: CSV exports (`text/csv`), Prometheus metrics (`text/plain`).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status_code", "detail"],
    "properties": {
        "status_code": {"type": "integer"},
        "detail": {"type": "string", "description": "zh-CN first, English in brackets"},
        "code": {"type": "string", "description": "machine-readable reason, where there is one"},
        "errors": {"description": "what was wrong, per field or item (a list or an object)"},
        "correlation_id": {"type": "string"},
    },
}
REASONS = {
    "400": "请求无效 (invalid request: parameters, encoding or body)",
    "401": "未登录或令牌无效 (missing or invalid token)",
    "403": "无权限 (role or scope does not allow this)",
    "404": "不存在或无权查看 (not found, or not visible to you)",
    "409": "状态冲突 (the record's state forbids this)",
    "413": "请求体过大 (request body too large)",
    "422": "业务规则不允许 (a business rule refuses this)",
    "429": "请求过于频繁 (too many attempts)",
}
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


def _error_response(code: str) -> dict[str, Any]:
    return {
        "description": REASONS[code],
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}}
        },
    }


def _models_by_name() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    stack = list(BaseModel.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        found.setdefault(cls.__name__, cls)
    return found


def _is_public(path: str, public: tuple[str, ...]) -> bool:
    """As the auth middleware excludes them (`^<prefix>`)."""
    return path.startswith(public)


def _strip_null(prop: dict[str, Any]) -> None:
    for key in ("oneOf", "anyOf"):
        options = prop.get(key)
        if isinstance(options, list):
            kept = [o for o in options if o.get("type") != "null"]
            if len(kept) != len(options):
                if len(kept) == 1:
                    prop.pop(key)
                    prop.update(kept[0])
                else:
                    prop[key] = kept
    if isinstance(prop.get("type"), list):
        prop["type"] = [t for t in prop["type"] if t != "null"] or prop["type"]
        if len(prop["type"]) == 1:
            prop["type"] = prop["type"][0]


MEDIA = {"csv": "text/csv", "yaml": "application/yaml", "json": "application/json"}


def _formats(op: dict[str, Any]) -> list[str]:
    """The choices of a `format` query parameter (enum, or a pattern like ^(csv|yaml)$)."""
    for p in op.get("parameters", []):
        if p.get("name") == "format" and p.get("in") == "query":
            schema = p.get("schema") or {}
            if schema.get("enum"):
                return [str(v) for v in schema["enum"]]
            m = re.fullmatch(r"\^\(([\w|]+)\)\$", schema.get("pattern", ""))
            if m:
                return m.group(1).split("|")
    return []


def _body_refs(op: dict[str, Any]) -> list[str]:
    refs: list[str] = []
    for media in (op.get("requestBody", {}).get("content") or {}).values():
        s = media.get("schema") or {}
        if "$ref" in s:
            refs.append(s["$ref"])
        elif s.get("type") == "array" and "$ref" in (s.get("items") or {}):
            refs.append(s["items"]["$ref"])
    return refs


def complete_openapi(schema: dict[str, Any], public: tuple[str, ...]) -> dict[str, Any]:
    """Complete the generated document in place (see the module's docstring) and return it."""
    from .patch import NoNullsUnlessClearable

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_SCHEMA_NAME, ERROR_SCHEMA)
    models = _models_by_name()

    # request bodies: unknown fields refused, nulls refused where the model refuses them (nested
    # models too)
    seen: set[str] = set()

    def tighten(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        comp, model = components.get(name), models.get(name)
        if comp is None or model is None:
            return
        if model.model_config.get("extra") == "forbid" and comp.get("type") == "object":
            comp["additionalProperties"] = False
        if issubclass(model, NoNullsUnlessClearable):
            for field, prop in (comp.get("properties") or {}).items():
                if field not in model.clearable:
                    _strip_null(prop)
        for prop in (comp.get("properties") or {}).values():
            for ref in _refs_in(prop):
                tighten(ref.rsplit("/", 1)[1])

    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method not in HTTP_METHODS or not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            if _is_public(path, public):
                op["security"] = []
                codes = ["400"]
            else:
                codes = ["400", "401", "403", "404", "409", "422", "429"]
            if method in {"post", "put", "patch"}:
                codes.append("413")
            for code in codes:
                responses.setdefault(code, _error_response(code))
            formats = _formats(op)
            if formats:  # `?format=csv|yaml`: the answer is that file, not JSON
                for status, resp in responses.items():
                    if status.startswith("2"):
                        # a YAML or JSON file is read as data by clients: no schema for its content
                        # here
                        resp["content"] = {
                            MEDIA.get(f, "application/octet-stream"): {
                                "schema": {"type": "string"} if f == "csv" else {}
                            }
                            for f in formats
                        }
            if path.endswith(".csv") or path == "/metrics":
                media = MEDIA["csv"] if path.endswith(".csv") else "text/plain"
                for status, resp in responses.items():
                    if status.startswith("2"):
                        resp["content"] = {media: {"schema": {"type": "string"}}}
            for ref in _body_refs(op):
                tighten(ref.rsplit("/", 1)[1])
    return schema


def _refs_in(prop: Any) -> list[str]:
    out: list[str] = []
    if isinstance(prop, dict):
        if isinstance(prop.get("$ref"), str):
            out.append(prop["$ref"])
        for value in prop.values():
            if isinstance(value, (dict, list)):
                out += _refs_in(value)
    elif isinstance(prop, list):
        for value in prop:
            out += _refs_in(value)
    return out


def install(app: Any, public: tuple[str, ...]) -> None:
    """Serve the completed document: the app's OpenAPI plugin (slotted, made by Litestar) becomes a
    subclass that completes the schema the first time it is built."""
    from litestar._openapi.plugin import OpenAPIPlugin

    plugin = app.plugins.get(OpenAPIPlugin)

    class CompletingOpenAPIPlugin(OpenAPIPlugin):
        __slots__ = ()
        public_paths = public

        def provide_openapi_schema(self) -> dict[str, Any]:
            fresh = not self._openapi_schema
            schema = super().provide_openapi_schema()
            if fresh:
                complete_openapi(schema, self.public_paths)
            return schema

    plugin.__class__ = CompletingOpenAPIPlugin


class AllowHeaderMiddleware:
    """OPTIONS answers list every method of the path (Litestar's own answer can miss those
    registered later on the same path, e.g. POST /tickets beside GET /tickets), so `Allow` matches
    the OpenAPI document."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._methods: dict[str, str] | None = None

    def _allow_for(self, scope: Any) -> str | None:
        if self._methods is None:
            table: dict[str, set[str]] = {}
            for route in scope["litestar_app"].routes:
                methods = getattr(route, "methods", None)
                if methods:
                    table.setdefault(route.path, set()).update(methods)
            self._methods = {path: ", ".join(sorted(m)) for path, m in table.items()}
        handler = scope.get("route_handler")
        for path in getattr(handler, "paths", ()) or ():
            if path in self._methods:
                return self._methods[path]
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "OPTIONS":
            await self.app(scope, receive, send)
            return
        allow = self._allow_for(scope)

        async def send_with_allow(message: Any) -> None:
            if allow and message.get("type") == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_allow)
