"""The compatibility gate of event contracts: every event version's JSON Schema is committed
(`events/schemas/<ce-type>.json`), and a change to an existing version must keep both sides working:

- consumers of that version must still read what the producer now sends, and
- the producer's new code (and replays) must still read the events already in the stream.

So within a version: no field removed, no field newly required, no type changed, no enum value added
or removed, no constraint narrowed (shorter maxLength, larger minLength, a new or changed
pattern/format). A new optional field is fine. Anything else is a new version (`...V2`, published
beside V1 until every consumer moved). `aftersales event-schemas --write` refreshes the committed
files; tests/events/test_event_schemas.py runs the gate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
# one saved message per event version, as it travels (headers + data): what partners and consumers
# test against
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


def schema_of(cls: Any) -> dict[str, Any]:
    """What a producer promises for one event version (pydantic's JSON Schema of the payload)."""
    return cls.model_json_schema()


def schema_path(ce_type: str) -> Path:
    return SCHEMA_DIR / f"{ce_type}.json"


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _resolve(node: Any, root: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen:
            return {}
        name = ref.rsplit("/", 1)[1]
        target = root.get("$defs", {}).get(name, {})
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, root, (*seen, ref))
    return node


def _branches(node: dict[str, Any], root: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The schema itself, then each alternative of its anyOf/oneOf (resolved, depth first)."""
    node = _resolve(node, root)
    yield node
    for key in ("anyOf", "oneOf"):
        for option in node.get(key, []):
            yield from _branches(option, root)


def _types(node: dict[str, Any], root: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for branch in _branches(node, root):
        t = branch.get("type")
        if isinstance(t, str):
            out.add(t)
        elif isinstance(t, list):
            out |= set(t)
        if "enum" in branch or "const" in branch:
            out.add("enum")
    return out


def _options(node: dict[str, Any], root: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The branch of a (possibly anyOf) schema that is of the given JSON type."""
    for branch in _branches(node, root):
        if branch.get("type") == kind or (kind == "object" and "properties" in branch):
            return branch
    return None


def _enum(node: dict[str, Any], root: dict[str, Any]) -> set[str]:
    values: set[str] = set()
    for branch in _branches(node, root):
        values |= {json.dumps(v) for v in branch.get("enum", [])}
        if "const" in branch:
            values.add(json.dumps(branch["const"]))
    return values


CONSTRAINTS = (
    "maxLength",
    "minLength",
    "maximum",
    "minimum",
    "pattern",
    "format",
    "maxItems",
    "minItems",
)


def _constraints(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for branch in _branches(node, root):
        for key in CONSTRAINTS:
            if key in branch:
                out.setdefault(key, branch[key])
    return out


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why `new` cannot replace `old` as the same event version (empty: it can)."""
    problems: list[str] = []
    _compare(old, new, old, new, "", problems)
    return problems


def breaking_changes_within(
    old: dict[str, Any],
    new: dict[str, Any],
    old_defs: dict[str, Any],
    new_defs: dict[str, Any],
    where: str,
    direction: str = "both",
) -> list[str]:
    """The same for a schema inside a larger document (OpenAPI: `$ref`s into its components).
    `direction`: "send" — clients send this (a request): a value newly allowed does no harm; "read"
    — clients read this (an answer): a field that becomes required, or a value no longer given, does
    no harm."""
    problems: list[str] = []
    _compare(old, new, {"$defs": old_defs}, {"$defs": new_defs}, where, problems, direction)
    return problems


def _compare(
    o: dict[str, Any],
    n: dict[str, Any],
    oroot: dict[str, Any],
    nroot: dict[str, Any],
    where: str,
    problems: list[str],
    direction: str = "both",
) -> None:
    label = where or "(the event)"
    if where.count(".") + where.count("[]") > 30:  # a recursive schema: deep enough
        return
    ot, nt = _types(o, oroot), _types(n, nroot)
    if ot != nt:
        problems.append(f"{label}: type changed from {sorted(ot)} to {sorted(nt)}")
        return
    oe, ne = _enum(o, oroot), _enum(n, nroot)
    if oe != ne:
        if oe - ne and direction != "read":
            problems.append(f"{label}: values removed: {sorted(oe - ne)}")
        if ne - oe and direction != "send":
            problems.append(
                f"{label}: values added (a consumer of this version cannot read them): "
                f"{sorted(ne - oe)}"
            )
    oc, nc = _constraints(o, oroot), _constraints(n, nroot)
    for key, narrower in (
        ("maxLength", lambda a, b: b < a),
        ("maxItems", lambda a, b: b < a),
        ("maximum", lambda a, b: b < a),
        ("minLength", lambda a, b: b > a),
        ("minItems", lambda a, b: b > a),
        ("minimum", lambda a, b: b > a),
    ):
        if direction != "read" and key in nc and (key not in oc or narrower(oc[key], nc[key])):
            problems.append(f"{label}: {key} narrowed from {oc.get(key, 'none')} to {nc[key]}")
    for key in ("pattern", "format"):
        if direction != "read" and key in nc and nc.get(key) != oc.get(key):
            if key == "pattern" and _widened(oc.get(key), nc[key]):
                continue  # ^(a|b)$ → ^(a|b|c)$: every value valid before still is
            problems.append(f"{label}: {key} changed from {oc.get(key)!r} to {nc[key]!r}")
    oo, no = _options(o, oroot, "object"), _options(n, nroot, "object")
    if oo is not None and no is not None:
        oprops, nprops = oo.get("properties", {}), no.get("properties", {})
        for name in oprops:
            if name not in nprops:
                problems.append(f"{where}.{name}".lstrip(".") + ": field removed")
        newly = set(no.get("required", [])) - set(oo.get("required", []))
        for name in sorted(newly) if direction != "read" else []:
            problems.append(f"{where}.{name}".lstrip(".") + ": field newly required")
        for name in oprops:
            if name in nprops:
                _compare(
                    oprops[name],
                    nprops[name],
                    oroot,
                    nroot,
                    f"{where}.{name}".lstrip("."),
                    problems,
                    direction,  # a nested field is read (or sent) as its parent is
                )
    oa, na = _options(o, oroot, "array"), _options(n, nroot, "array")
    if oa is not None and na is not None and "items" in oa and "items" in na:
        _compare(oa["items"], na["items"], oroot, nroot, f"{where}[]", problems, direction)


_CHOICES = re.compile(r"^\^\(([A-Za-z0-9_-]+(?:\|[A-Za-z0-9_-]+)*)\)\$$")


def _widened(old: Any, new: str) -> bool:
    """Both patterns a plain list of choices (``^(a|b)$``), the new one keeping every old choice."""
    before, after = _CHOICES.match(old or ""), _CHOICES.match(new)
    return bool(before and after) and set(before[1].split("|")) <= set(after[1].split("|"))


def field_paths(schema: dict[str, Any]) -> set[str]:
    """Every data field a consumer can read, as dotted paths ("customer.contacts.phone"): through
    $ref, anyOf/oneOf/allOf (a nullable object), array items (a list's items are read by the same
    path) and map values ("years.*.date")."""
    defs = schema.get("$defs", {})
    paths: set[str] = set()

    def walk(node: dict[str, Any], prefix: str, seen: tuple[str, ...]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:  # a recursive type is walked once
                walk(defs.get(name, {}), prefix, (*seen, name))
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key, []):
                walk(branch, prefix, seen)
        if isinstance(node.get("items"), dict):
            walk(node["items"], prefix, seen)
        if isinstance(
            node.get("additionalProperties"), dict
        ):  # a map: its values as "<map>.*.<field>"
            walk(node["additionalProperties"], f"{prefix}*.", seen)
        for field_name, sub in node.get("properties", {}).items():
            path = f"{prefix}{field_name}"
            paths.add(path)
            walk(sub, f"{path}.", seen)

    walk(schema, "", ())
    return paths


def unknown_reads(ce_type: str, reads: Iterable[str]) -> list[str]:
    """The declared fields a consumer reads that the producer's committed schema of that version
    does not have."""
    path = schema_path(ce_type)
    if not path.exists():
        return sorted(reads)
    known = field_paths(json.loads(path.read_text("utf-8")))
    return sorted(r for r in reads if r not in known)
