"""The Kubernetes manifests (infra/k8s) render for every environment, validate against the
Kubernetes schemas, and keep the deployment's rules; the Dockerfile builds one service with only its
own dependencies.

Nothing here needs a cluster, a kustomize binary or the network: `build()` below renders the subset
of Kustomize that infra/k8s uses (resources, namespace, labels, patches as strategic merge or JSON
6902, images, configMapGenerator with kustomize's hash suffix and name references) and refuses
anything else, so a new Kustomize feature in the manifests fails here instead of being silently
ignored. Where `kubectl` is on the PATH, its own `kubectl kustomize` must render exactly the same
documents.

Each rule is a function that returns the problems it finds; `test_each_check_catches_its_fault`
breaks a rendered overlay in one way per rule and asserts that the rule notices.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import ipaddress
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema_rs
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "infra" / "k8s"
OVERLAYS = ("local", "staging", "production")
KUBERNETES_VERSION = "v1.30.0"  # infra/k8s/schemas/<version>, made by infra/k8s/schemas/vendor.py
SCHEMAS = K8S / "schemas" / KUBERNETES_VERSION
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
# web front ends: no database; they call the services' HTTP APIs and hear NATS as their own user
WEB_APPS = {"console"}
BACKENDS = [s for s in SERVICES if s not in WEB_APPS]
HTTP_PORT = 8000

# Where a service may connect (infra/README.md, "Network policies"): NATS, its database, the IdP's
# JWKS, DNS; notifications also its providers (SMTP relay, SMS gateway over HTTPS).
NATS_CLIENT, NATS_ROUTES, POSTGRESQL, HTTPS, DNS = 4222, 6222, 5432, 443, 53
SMTP = {25, 465, 587}
SERVICE_EGRESS = {NATS_CLIENT, POSTGRESQL, HTTPS, DNS}
EXTRA_EGRESS = {"notifications": SMTP, "tickets": SMTP}  # tickets: replies to its mailbox's mail
# tickets' SMTP receiver (the service mailbox, issue 22): only from the mail gateway's own address
MAIL_INGRESS = {"tickets": 2525}
WEB_EGRESS = {HTTP_PORT, NATS_CLIENT, HTTPS, DNS}  # the services' APIs, NATS, the IdP, DNS
INGRESS_CONTROLLER = {"kubernetes.io/metadata.name": "ingress-nginx"}
PROMETHEUS = {"kubernetes.io/metadata.name": "monitoring"}
KUBE_SYSTEM = {"kubernetes.io/metadata.name": "kube-system"}


# --------------------------------------------------------------------------- the Kustomize subset


class KustomizeError(Exception):
    pass


@dataclass
class Resource:
    doc: dict
    # a generated ConfigMap: its name gets kustomize's hash suffix at the end
    generated: bool = False

    @property
    def kind(self) -> str:
        return self.doc["kind"]

    @property
    def name(self) -> str:
        return self.doc["metadata"]["name"]


SUPPORTED = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "patches",
    "labels",
    "images",
    "configMapGenerator",
}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def build(directory: Path) -> list[dict]:
    """`kustomize build directory`, for the features infra/k8s uses."""
    resources = _accumulate(directory.resolve())
    seen: set[tuple] = set()
    for r in resources:
        key = (r.doc["apiVersion"], r.kind, r.doc["metadata"].get("namespace"), r.name)
        if key in seen:
            raise KustomizeError(f"{r.kind}/{r.name} defined twice")
        seen.add(key)
    renamed: dict[tuple[str | None, str], str] = {}
    for r in resources:
        if r.generated:
            new = f"{r.name}-{_configmap_hash(r.doc)}"
            renamed[(r.doc["metadata"].get("namespace"), r.name)] = new
            r.doc["metadata"]["name"] = new
    for r in resources:
        spec = pod_spec(r.doc)
        if spec is not None:
            _rename_configmap_refs(spec, r.doc["metadata"].get("namespace"), renamed)
    return [r.doc for r in resources]


def _kustomization(directory: Path) -> dict:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if (directory / name).is_file():
            k = yaml.safe_load((directory / name).read_text()) or {}
            unknown = set(k) - SUPPORTED
            if unknown:
                raise KustomizeError(
                    f"{directory}: fields this renderer does not implement: {unknown}"
                )
            return k
    raise KustomizeError(f"{directory}: no kustomization")


def _accumulate(directory: Path) -> list[Resource]:
    k = _kustomization(directory)
    resources: list[Resource] = []
    for entry in k.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            resources += _accumulate(path)
        else:
            resources += [Resource(d) for d in _documents(path.read_text(), path)]
    for generator in k.get("configMapGenerator", []):
        resources.append(_generate_configmap(directory, generator))
    # kustomize's order of the built-in transformers
    for patch in k.get("patches", []):
        _patch(directory, patch, resources)
    if "namespace" in k:
        for r in resources:
            if r.kind == "Namespace":
                r.doc["metadata"]["name"] = k["namespace"]
            elif r.kind not in CLUSTER_SCOPED:
                r.doc["metadata"]["namespace"] = k["namespace"]
    for spec in k.get("labels", []):
        _labels(resources, spec)
    for image in k.get("images", []):
        _images(resources, image)
    return resources


def _documents(text: str, origin: object) -> list[dict]:
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    for d in docs:
        if not isinstance(d, dict) or not {"apiVersion", "kind", "metadata"} <= set(d):
            raise KustomizeError(f"{origin}: not a Kubernetes object: {str(d)[:80]}")
    return docs


def _generate_configmap(directory: Path, generator: dict) -> Resource:
    unknown = set(generator) - {"name", "literals", "files"}
    if unknown:
        raise KustomizeError(
            f"configMapGenerator {generator.get('name')}: {unknown} not implemented"
        )
    data: dict[str, str] = {}
    for literal in generator.get("literals", []):
        key, sep, value = literal.partition("=")
        if not sep or value[:1] in {"'", '"'}:
            raise KustomizeError(f"literal {literal!r}: key=value without quotes expected")
        data[key] = value
    for entry in generator.get("files", []):
        key, sep, path = entry.partition("=")
        if not sep:
            key, path = Path(entry).name, entry
        data[key] = (directory / path).read_text()
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": generator["name"]},
        "data": data,
    }
    return Resource(doc, generated=True)


def _configmap_hash(doc: dict) -> str:
    """kustomize's suffix: sha256 of Go's json.Marshal of {data, kind, name}, 10 hex digits, some
    swapped.

    The name is always "": kustomize's hasher looks up the one field "metadata/name" (kustomize
    api/hasher/hasher.go, encodeConfigMap), which no ConfigMap has."""
    encoded = json.dumps(
        {"data": doc.get("data", {}), "kind": "ConfigMap", "name": ""},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        encoded = encoded.replace(char, escape)
    digest = hashlib.sha256(encoded.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def pod_spec(doc: dict) -> dict | None:
    if doc.get("kind") in WORKLOADS:
        return doc.get("spec", {}).get("template", {}).get("spec")
    if doc.get("kind") == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def containers(spec: dict) -> Iterator[dict]:
    yield from spec.get("initContainers", [])
    yield from spec.get("containers", [])


def _rename_configmap_refs(spec: dict, namespace: str | None, renamed: dict) -> None:
    def rename(ref: dict | None) -> None:
        if ref and (namespace, ref.get("name")) in renamed:
            ref["name"] = renamed[(namespace, ref["name"])]

    for volume in spec.get("volumes", []):
        rename(volume.get("configMap"))
        for source in volume.get("projected", {}).get("sources", []):
            rename(source.get("configMap"))
    for c in containers(spec):
        for source in c.get("envFrom", []):
            rename(source.get("configMapRef"))
        for var in c.get("env", []):
            rename(var.get("valueFrom", {}).get("configMapKeyRef"))


def _labels(resources: list[Resource], spec: dict) -> None:
    if spec.get("includeSelectors") or set(spec) - {
        "pairs",
        "includeSelectors",
        "includeTemplates",
    }:
        raise KustomizeError(f"labels {spec}: only pairs with includeTemplates are implemented")
    pairs = spec["pairs"]
    for r in resources:
        r.doc["metadata"].setdefault("labels", {}).update(pairs)
        if not spec.get("includeTemplates"):
            continue
        if r.kind in WORKLOADS:
            template = r.doc["spec"]["template"]
            template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if r.kind == "StatefulSet":
            for claim in r.doc["spec"].get("volumeClaimTemplates", []):
                claim.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if r.kind == "CronJob":
            raise KustomizeError("labels of CronJob templates: not implemented")


def _images(resources: list[Resource], image: dict) -> None:
    if set(image) - {"name", "newName", "newTag"}:
        raise KustomizeError(f"images {image}: only name, newName, newTag are implemented")
    for r in resources:
        spec = pod_spec(r.doc)
        for c in containers(spec) if spec else ():
            name, tag = split_image(c["image"])
            if name == image["name"]:
                new_tag = image.get("newTag", tag)
                c["image"] = image.get("newName", name) + (f":{new_tag}" if new_tag else "")


def split_image(image: str) -> tuple[str, str | None]:
    """("registry:5000/a/b", "1.0") from "registry:5000/a/b:1.0"; digests are not used here."""
    if "@" in image:
        raise KustomizeError(f"image {image}: digests are not implemented")
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, None
    return name, tag


def _patch(directory: Path, entry: dict, resources: list[Resource]) -> None:
    if set(entry) - {"path", "patch", "target"} or ("path" in entry) == ("patch" in entry):
        raise KustomizeError(f"patch {entry}: one of path or patch, and a target, are implemented")
    text = (directory / entry["path"]).read_text() if "path" in entry else entry["patch"]
    origin = directory / entry.get("path", "kustomization.yaml")
    target = entry.get("target")
    parsed = [d for d in yaml.safe_load_all(text) if d is not None]
    if len(parsed) == 1 and isinstance(parsed[0], list):  # JSON 6902
        if target is None:
            raise KustomizeError(f"{origin}: a JSON patch needs a target")
        for r in _select(resources, target, origin):
            for op in parsed[0]:
                _json_patch(r.doc, op, origin)
        return
    for patch in _documents(text, origin):
        if target is not None:
            selected = _select(resources, target, origin)
        else:
            selected = [
                r
                for r in resources
                if r.kind == patch["kind"] and r.name == patch["metadata"]["name"]
            ]
            if len(selected) != 1:
                raise KustomizeError(
                    f"{origin}: no unique target for {patch['kind']}/{patch['metadata']['name']}"
                )
        for r in selected:
            body = {k: v for k, v in patch.items() if k not in {"apiVersion", "kind"}}
            body["metadata"] = {
                k: v for k, v in body.get("metadata", {}).items() if k not in {"name", "namespace"}
            }
            _merge(r.doc, body, _schema_root(r.doc))


def _select(resources: list[Resource], target: dict, origin: object) -> list[Resource]:
    unknown = set(target) - {"kind", "name", "labelSelector"}
    if unknown:
        raise KustomizeError(f"{origin}: target fields {unknown} not implemented")
    selected = [
        r
        for r in resources
        if re.fullmatch(target.get("kind", ".*"), r.kind)
        and re.fullmatch(target.get("name", ".*"), r.name)
        and _selector_matches(target.get("labelSelector", ""), r.doc["metadata"].get("labels", {}))
    ]
    if not selected:
        raise KustomizeError(f"{origin}: target {target} matches nothing")
    return selected


def _selector_matches(selector: str, labels: dict) -> bool:
    for requirement in filter(None, (s.strip() for s in selector.split(","))):
        if m := re.fullmatch(r"([\w./-]+)\s*(!=|==|=)\s*([\w.-]*)", requirement):
            key, op, value = m.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif m := re.fullmatch(r"(!?)([\w./-]+)", requirement):
            if (m[2] in labels) == bool(m[1]):
                return False
        else:
            raise KustomizeError(f"label selector {requirement!r} not implemented")
    return True


# Strategic merge, as kustomize does it: lists merge by their x-kubernetes-list-map-keys (else the
# x-kubernetes-patch-merge-key) from the Kubernetes schema, the patch's items first; other lists are
# replaced.


@functools.cache
def _schema(filename: str) -> dict | None:
    path = SCHEMAS / filename
    return json.loads(path.read_text()) if path.is_file() else None


def schema_file(doc: dict) -> str:
    group, _, version = doc["apiVersion"].rpartition("/")
    parts = [doc["kind"].lower(), *([group.split(".")[0]] if group else []), version]
    return "-".join(parts) + ".json"


@dataclass
class _Node:
    root: dict
    node: dict = field(default_factory=dict)

    def resolve(self, node: dict | None) -> _Node:
        node = node or {}
        while "$ref" in node:
            node = self.root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        return _Node(self.root, node)

    def child(self, key: str) -> _Node:
        props = self.node.get("properties", {})
        if key in props:
            return self.resolve(props[key])
        extra = self.node.get("additionalProperties")
        return self.resolve(extra if isinstance(extra, dict) else None)

    def items(self) -> _Node:
        return self.resolve(self.node.get("items"))


def _schema_root(doc: dict) -> _Node:
    root = _schema(schema_file(doc)) or {}
    return _Node(root, root)


def _merge(dest: dict, patch: dict, schema: _Node) -> None:
    for key, value in patch.items():
        if key.startswith("$"):
            raise KustomizeError(f"patch directive {key} not implemented")
        sub = schema.child(key)
        if value is None:
            dest.pop(key, None)
        elif isinstance(value, dict) and isinstance(dest.get(key), dict):
            _merge(dest[key], value, sub)
        elif isinstance(value, list) and isinstance(dest.get(key), list):
            dest[key] = _merge_list(dest[key], value, sub)
        else:
            dest[key] = copy.deepcopy(value)


def _merge_list(dest: list, patch: list, schema: _Node) -> list:
    keys = schema.node.get("x-kubernetes-list-map-keys") or (
        [schema.node["x-kubernetes-patch-merge-key"]]
        if "x-kubernetes-patch-merge-key" in schema.node
        else []
    )
    if not keys or not all(isinstance(i, dict) for i in dest + patch):
        return copy.deepcopy(patch)
    merged, used = [], set()
    for item in patch:
        match = next(
            (
                i
                for i, d in enumerate(dest)
                if i not in used and all(d.get(k) == item.get(k) for k in keys)
            ),
            None,
        )
        if match is None:
            merged.append(copy.deepcopy(item))
        else:
            used.add(match)
            base = copy.deepcopy(dest[match])
            _merge(base, item, schema.items())
            merged.append(base)
    return merged + [copy.deepcopy(d) for i, d in enumerate(dest) if i not in used]


def _json_patch(doc: dict, op: dict, origin: object) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
    parent = doc
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    index: int | str = last
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
    if op["op"] == "test":
        if parent[index] != op["value"]:
            raise KustomizeError(f"{origin}: test of {op['path']} failed: {parent[index]!r}")
    elif op["op"] == "replace":
        _ = parent[index]  # KeyError or IndexError: replace needs an existing value
        parent[index] = copy.deepcopy(op["value"])
    elif op["op"] == "add":
        if isinstance(parent, list):
            parent.insert(index, copy.deepcopy(op["value"]))
        else:
            parent[index] = copy.deepcopy(op["value"])
    elif op["op"] == "remove":
        del parent[index]
    else:
        raise KustomizeError(f"{origin}: JSON patch op {op['op']} not implemented")


@functools.cache
def _rendered(overlay: str) -> str:
    return json.dumps(build(K8S / "overlays" / overlay))


def render(overlay: str) -> list[dict]:
    """A fresh copy of the overlay's documents (rendered once per session)."""
    return json.loads(_rendered(overlay))


# --------------------------------------------------------------------------- the rules


def ident(doc: dict) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@functools.cache
def _validator(filename: str):
    schema = _schema(filename)
    return None if schema is None else jsonschema_rs.validator_for(schema)


def schema_problems(docs: list[dict]) -> list[str]:
    problems = []
    for doc in docs:
        validator = _validator(schema_file(doc))
        if validator is None:
            problems.append(
                f"{ident(doc)}: no schema {SCHEMAS.name}/{schema_file(doc)} "
                "(add the kind to infra/k8s/schemas/vendor.py and run it)"
            )
            continue
        for error in validator.iter_errors(doc):
            where = "/" + "/".join(map(str, error.instance_path))
            problems.append(f"{ident(doc)}: {where}: {error.message}")
    return problems


def service_object_problems(docs: list[dict]) -> list[str]:
    problems = []
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "NetworkPolicy"):
        objects = by_kind(docs, kind)
        problems += [f"{s}: no {kind}" for s in SERVICES if s not in objects]
    services = by_kind(docs, "Service")
    for name, deployment in by_kind(docs, "Deployment").items():
        pod = deployment["spec"]["template"]["metadata"]["labels"]
        service = services.get(name)
        if service and not selects(service["spec"].get("selector", {}), pod):
            problems.append(f"Service/{name} does not select the pods of Deployment/{name}")
    return problems


def image_problems(docs: list[dict]) -> list[str]:
    """No image without a tag, none `:latest` (what runs must be what was tested)."""
    problems = []
    for doc in docs:
        spec = pod_spec(doc)
        for c in containers(spec) if spec else ():
            _, tag = split_image(c["image"])
            if tag in (None, "latest"):
                problems.append(
                    f"{ident(doc)} container {c['name']}: image {c['image']} is not pinned"
                )
    return problems


def credential_problems(docs: list[dict]) -> list[str]:
    """Every service's NATS password is its own key of Secret nats-users, referenced (never
    copied)."""
    problems = []
    auth_conf = (ROOT / "infra" / "nats" / "auth.conf").read_text()
    configmaps = {
        re.sub(r"-[a-z0-9]{10}$", "", n): d for n, d in by_kind(docs, "ConfigMap").items()
    }
    deployments = by_kind(docs, "Deployment")
    for s in SERVICES:  # the console too: its own read-only user
        prefix, key = s.upper(), f"NATS_PASSWORD_{s.upper()}"
        if f"${key}" not in auth_conf:
            problems.append(f"infra/nats/auth.conf reads no ${key}")
        if s not in deployments:
            continue
        pod = deployments[s]["spec"]["template"]["spec"]
        app = next((c for c in pod["containers"] if c["name"] == "app"), {})
        refs = [
            (v["name"], v["valueFrom"]["secretKeyRef"])
            for v in app.get("env", [])
            if "secretKeyRef" in v.get("valueFrom", {})
        ]
        if (f"{prefix}_NATS_PASSWORD", {"name": "nats-users", "key": key}) not in refs:
            problems.append(
                f"Deployment/{s}: {prefix}_NATS_PASSWORD is not secretKeyRef nats-users/{key}"
            )
        data = configmaps.get(f"{s}-config", {}).get("data", {})
        if data.get(f"{prefix}_NATS_USER") != s:
            problems.append(f"ConfigMap {s}-config: {prefix}_NATS_USER is not {s}")
        if any("PASSWORD" in k for k in data):
            problems.append(f"ConfigMap {s}-config holds a password")
    # who may read which key of nats-users: a service its own, the streams Job the provisioner's,
    # NATS all
    own = {s: {f"NATS_PASSWORD_{s.upper()}"} for s in SERVICES}
    own["streams-apply"] = {"NATS_PASSWORD_PROVISIONER"}
    for doc in docs:
        spec = pod_spec(doc)
        name = doc["metadata"]["name"]
        for c in containers(spec) if spec else ():
            for v in c.get("env", []):
                ref = v.get("valueFrom", {}).get("secretKeyRef", {})
                if ref.get("name") == "nats-users" and ref.get("key") not in own.get(name, set()):
                    problems.append(f"{ident(doc)} reads another user's password {ref.get('key')}")
            if name != "nats" and {"secretRef": {"name": "nats-users"}} in c.get("envFrom", []):
                problems.append(f"{ident(doc)} reads every NATS password")
        for volume in spec.get("volumes", []) if spec else ():
            if name != "nats" and volume.get("secret", {}).get("secretName") == "nats-users":
                problems.append(f"{ident(doc)} mounts every NATS password")
    nats = by_kind(docs, "StatefulSet").get("nats")
    if nats is None or {"secretRef": {"name": "nats-users"}} not in (
        nats["spec"]["template"]["spec"]["containers"][0].get("envFrom", [])
    ):
        problems.append(
            "StatefulSet/nats does not read its users' passwords from Secret nats-users"
        )
    job = by_kind(docs, "Job").get("streams-apply")
    job_env = job["spec"]["template"]["spec"]["containers"][0].get("env", []) if job else []
    if not any(
        v.get("valueFrom", {}).get("secretKeyRef")
        == {"name": "nats-users", "key": "NATS_PASSWORD_PROVISIONER"}
        for v in job_env
    ):
        problems.append("Job/streams-apply: NATS_PASSWORD is not secretKeyRef nats-users")
    if "nats-users" in by_kind(docs, "Secret"):
        problems.append("Secret/nats-users is in the manifests: passwords never go into Git")
    return problems


def selects(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels/matchExpressions, or a Service's plain map) against pod
    labels."""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        key, op, values = e["key"], e["operator"], e.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def pods(docs: list[dict]) -> dict[str, dict]:
    """Workload name -> its pods' labels."""
    return {
        doc["metadata"]["name"]: doc["spec"]["template"]["metadata"].get("labels", {})
        for doc in docs
        if doc["kind"] in WORKLOADS
    }


def rules(docs: list[dict], labels: dict, direction: str) -> list[tuple[str, dict]]:
    """(policy, rule) for every ingress or egress rule of every NetworkPolicy that selects these
    pods."""
    return [
        (ident(p), rule)
        for p in docs
        if p["kind"] == "NetworkPolicy" and selects(p["spec"]["podSelector"], labels)
        for rule in p["spec"].get(direction, [])
    ]


def peer_is(peer: dict, kind: str, **labels: str) -> bool:
    """The peer is exactly: pods of this namespace ("pods"), pods of a namespace ("namespace"), an
    ipBlock."""
    if kind == "ipBlock":
        return set(peer) == {"ipBlock"}
    if kind == "pods":
        return set(peer) == {"podSelector"} and selects(peer["podSelector"], labels)
    return (
        "namespaceSelector" in peer
        and "ipBlock" not in peer
        and (peer["namespaceSelector"].get("matchLabels") == labels)
    )


def network_problems(docs: list[dict]) -> list[str]:
    problems = []
    policies = by_kind(docs, "NetworkPolicy")
    if not any(
        p["spec"]["podSelector"] == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in policies.values()
    ):
        problems.append(
            "no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)"
        )
    workloads = pods(docs)
    nats = workloads.get("nats", {})

    def only_nats(peer: dict) -> bool:
        others = (labels for n, labels in workloads.items() if n != "nats")
        return peer_is(peer, "pods", **nats) and not any(
            selects(peer["podSelector"], labels) for labels in others
        )

    def only_backends(peer: dict) -> bool:
        """The services' pods of this namespace, nothing else (a web app calling their APIs)."""
        if set(peer) != {"podSelector"}:
            return False
        chosen = {n for n, labels in workloads.items() if selects(peer["podSelector"], labels)}
        return bool(chosen) and chosen <= set(BACKENDS)

    def web_app(peer: dict) -> bool:
        """Pods of a web app of this namespace, nothing else."""
        if set(peer) != {"podSelector"}:
            return False
        chosen = {n for n, labels in workloads.items() if selects(peer["podSelector"], labels)}
        return bool(chosen) and chosen <= WEB_APPS

    for name, labels in workloads.items():
        egress = rules(docs, labels, "egress")
        reached: set[int | str] = set()
        for policy, rule in egress:
            ports, peers = rule.get("ports", []), rule.get("to", [])
            for block in (p["ipBlock"] for p in peers if "ipBlock" in p):
                for cidr in [block["cidr"], *block.get("except", [])]:
                    try:
                        ipaddress.ip_network(cidr)
                    except ValueError:
                        problems.append(f"{policy}: {cidr} is not a network address")
            if not ports or not peers:
                problems.append(f"{policy}: an egress rule of {name} without ports or peers (any)")
            for port in ports:
                number = port.get("port", "every port") if "endPort" not in port else "a range"
                reached.add(number)
                expected = {
                    DNS: lambda p: peer_is(p, "namespace", **KUBE_SYSTEM),
                    NATS_CLIENT: only_nats,
                    NATS_ROUTES: only_nats,
                    HTTP_PORT: only_backends,
                }.get(number, lambda p: peer_is(p, "ipBlock"))
                if not all(expected(p) for p in peers):
                    problems.append(f"{policy}: {name} may reach port {number} at {peers}")
        if name in WEB_APPS:
            expected_ports = WEB_EGRESS
        elif name in SERVICES:
            expected_ports = SERVICE_EGRESS | EXTRA_EGRESS.get(name, set())
        elif name == "nats":
            expected_ports = {NATS_ROUTES, DNS}
        else:  # the streams Job
            expected_ports = {NATS_CLIENT, DNS}
        if reached - expected_ports:
            extra = sorted(reached - expected_ports, key=str)
            problems.append(f"{name} may connect to ports {extra}")
        if expected_ports - reached:
            problems.append(f"{name} cannot connect to ports {sorted(expected_ports - reached)}")
        for policy, rule in rules(docs, labels, "ingress"):
            ports = {p.get("port") for p in rule.get("ports", [])}
            peers = rule.get("from", [])
            if not peers or not ports:
                problems.append(f"{policy}: an ingress rule of {name} without ports or peers (any)")
            if name == "nats" and (
                not ports <= {NATS_CLIENT, NATS_ROUTES}
                or not all(set(p) == {"podSelector"} for p in peers)
            ):
                problems.append(f"{policy}: NATS admits {peers} on {ports}")
            if name not in SERVICES and name != "nats":
                problems.append(f"{policy}: {name} admits {peers} on {ports}")
            if (
                name in MAIL_INGRESS
                and ports == {MAIL_INGRESS[name]}
                and all(
                    set(p) == {"ipBlock"}
                    and ipaddress.ip_network(p["ipBlock"]["cidr"], strict=False).prefixlen >= 24
                    for p in peers
                )
            ):
                continue  # the mail gateway, by address
            if name in SERVICES and (
                ports != {HTTP_PORT}
                or not all(
                    peer_is(p, "namespace", **INGRESS_CONTROLLER)
                    or peer_is(p, "namespace", **PROMETHEUS)
                    or (name in BACKENDS and web_app(p))
                    for p in peers
                )
            ):
                problems.append(f"{policy}: {name} admits {peers} on {ports}")
        if name != "nats":
            admitted = [
                r
                for _, r in rules(docs, nats, "ingress")
                if any(p.get("port") == NATS_CLIENT for p in r.get("ports", []))
                and any(peer_is(p, "pods", **labels) for p in r.get("from", []))
            ]
            if not admitted:
                problems.append(f"NATS does not admit {name} on {NATS_CLIENT}")
    routes = [
        r
        for _, r in rules(docs, nats, "ingress")
        if any(p.get("port") == NATS_ROUTES for p in r.get("ports", []))
        and any(peer_is(p, "pods", **nats) for p in r.get("from", []))
    ]
    if nats and not routes:
        problems.append(f"the NATS pods do not admit each other on {NATS_ROUTES}")
    return problems


def autoscaling_problems(docs: list[dict], overlay: str) -> list[str]:
    problems = []
    deployments = by_kind(docs, "Deployment")
    budgets = by_kind(docs, "PodDisruptionBudget")
    for name, hpa in by_kind(docs, "HorizontalPodAutoscaler").items():
        target = hpa["spec"]["scaleTargetRef"]
        deployment = deployments.get(target["name"])
        low, high = hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"]
        if target["kind"] != "Deployment" or deployment is None or target["name"] != name:
            problems.append(
                f"HorizontalPodAutoscaler/{name} scales no Deployment of ours: {target}"
            )
            continue
        if "replicas" in deployment["spec"]:
            problems.append(
                f"Deployment/{target['name']} sets replicas: each apply would undo its autoscaler"
            )
        if not low <= high:
            problems.append(
                f"HorizontalPodAutoscaler/{name}: minReplicas {low} > maxReplicas {high}"
            )
        if overlay == "local" and low != 1:
            problems.append(f"{overlay}: {name} starts {low} pods, not 1")
        if overlay != "local" and low < 2:
            problems.append(f"{overlay}: {name} may run a single pod (minReplicas {low})")
        if overlay != "local" and name not in budgets:
            problems.append(f"{overlay}: {name} has no PodDisruptionBudget")
        app = deployment["spec"]["template"]["spec"]["containers"]
        if any("cpu" not in c.get("resources", {}).get("requests", {}) for c in app):
            problems.append(
                f"Deployment/{name}: no CPU request, which the autoscaler's metric needs"
            )
    return problems


def _copy_sources(stage: str) -> list[tuple[str, list[str]]]:
    """(flags, sources) of every COPY in a stage."""
    found = []
    for line in re.findall(r"(?m)^COPY\s+(.*)$", stage):
        words = line.split()
        flags = " ".join(w for w in words if w.startswith("--"))
        found.append((flags, [w for w in words if not w.startswith("--")][:-1]))
    return found


def dockerfile_problems(text: str) -> list[str]:
    """infra/Dockerfile installs one service (ARG SERVICE) with only its locked, non-dev
    dependencies."""
    problems = []
    stages = re.split(r"(?m)^FROM\s+", text)[1:]
    syncs = re.findall(r"uv sync[^\n]*", text)
    if not syncs:
        problems.append("no uv sync")
    for sync in syncs:
        for flag in ("--frozen", "--no-dev", '--package "aftersales-${SERVICE}"'):
            if flag not in sync:
                problems.append(f"{sync!r}: without {flag}")
    if re.search(r"uv (pip install|sync)[^\n]*(--all-packages|--all-groups|--group)", text):
        problems.append("installs every workspace member or a dependency group")
    listed = re.search(r'case "\$\{SERVICE\}" in\s*\\?\s*\n\s*([a-z|]+)\)', text)
    if not listed or sorted(listed[1].split("|")) != SERVICES:
        problems.append(f"the SERVICE check does not list exactly {SERVICES}")
    metadata = re.compile(r"(pyproject\.toml|uv\.lock|[\w./-]*/pyproject\.toml)")
    for stage in stages:
        for flags, sources in _copy_sources(stage):
            if "--from" in flags:
                continue
            if "uv sync" in stage:
                wrong = [
                    s
                    for s in sources
                    if not metadata.fullmatch(s)
                    and not s.startswith(("shared/", "services/${SERVICE}/"))
                ]
                if wrong:
                    problems.append(
                        f"copies more than one service's sources into the build: {wrong}"
                    )
            elif "." in sources and "! -name pyproject.toml ! -name uv.lock -delete" not in stage:
                problems.append("a stage copies the whole context and keeps more than the metadata")
    runtime = stages[-1] if stages else ""
    for flags, sources in _copy_sources(runtime):
        if flags.split() != ["--from=builder"] and sources != ["infra/docker-entrypoint.sh"]:
            problems.append(f"the runtime stage copies more than the builder's /app: {sources}")
    return problems


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_renders_and_every_document_matches_its_kubernetes_schema(overlay):
    docs = render(overlay)
    assert len(docs) > 5 * len(SERVICES)
    assert schema_problems(docs) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_a_deployment_service_autoscaler_and_network_policy(overlay):
    assert SERVICES, "no services/*/pyproject.toml"
    assert service_object_problems(render(overlay)) == []


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_released_environments_run_pinned_images_only(overlay):
    assert image_problems(render(overlay)) == []


def test_local_runs_the_images_built_on_the_machine():
    images = {c["image"] for d in render("local") if pod_spec(d) for c in containers(pod_spec(d))}
    assert {f"aftersales/{s}:dev" for s in SERVICES} <= images


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_gets_its_own_nats_password_from_the_secret_nats_users(overlay):
    assert credential_problems(render(overlay)) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_each_pod_reach_only_what_it_needs(overlay):
    assert network_problems(render(overlay)) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_own_the_replica_counts(overlay):
    assert autoscaling_problems(render(overlay), overlay) == []


def test_environments_differ_where_they_should():
    def namespace(docs):
        return next(d["metadata"]["name"] for d in docs if d["kind"] == "Namespace")

    def bounds(docs):
        hpa = by_kind(docs, "HorizontalPodAutoscaler")["tickets"]["spec"]
        return hpa["minReplicas"], hpa["maxReplicas"]

    def cpu(docs):
        app = by_kind(docs, "Deployment")["tickets"]["spec"]["template"]["spec"]["containers"][0]
        return app["resources"]["requests"]["cpu"]

    local, staging, production = (render(o) for o in OVERLAYS)
    assert [namespace(d) for d in (local, staging, production)] == [
        "aftersales-local",
        "aftersales-staging",
        "aftersales",
    ]
    for docs in (local, staging, production):
        ns = namespace(docs)
        assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {ns}
    assert bounds(local) == (1, 2) and bounds(staging) == (2, 4) and bounds(production) == (3, 8)
    assert cpu(local) == "50m" and cpu(staging) == "100m" and cpu(production) == "250m"
    assert not by_kind(local, "PodDisruptionBudget").keys() & set(SERVICES)
    nats = by_kind(production, "StatefulSet")["nats"]["spec"]["template"]["spec"]
    assert [c["whenUnsatisfiable"] for c in nats["topologySpreadConstraints"]] == ["DoNotSchedule"]


def test_the_nats_users_example_is_a_valid_secret_with_every_password():
    (secret,) = _documents((K8S / "nats-users.example.yaml").read_text(), "nats-users.example")
    assert schema_problems([secret]) == []
    assert {f"NATS_PASSWORD_{s.upper()}" for s in SERVICES} | {"NATS_PASSWORD_PROVISIONER"} <= set(
        secret["stringData"]
    )


def test_the_dockerfile_builds_one_service_with_only_its_own_dependencies():
    assert dockerfile_problems((ROOT / "infra" / "Dockerfile").read_text()) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_renderer_agrees_with_kubectl_kustomize(overlay):
    """Keeps build() honest where kubectl is installed (it is not needed anywhere else)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: build() alone renders the overlays")
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    def keyed(docs):
        return {ident(d): json.dumps(d, sort_keys=True) for d in docs}

    theirs, ours = keyed(yaml.safe_load_all(out)), keyed(render(overlay))
    assert sorted(theirs) == sorted(ours)
    for name in theirs:
        assert json.loads(ours[name]) == json.loads(theirs[name]), name


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path):
    (tmp_path / "kustomization.yaml").write_text(
        "resources: []\nreplicas:\n  - name: x\n    count: 2\n"
    )
    with pytest.raises(KustomizeError, match="replicas"):
        build(tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [d.yaml]\npatches:\n  - path: p.yaml\n    target: {kind: StatefulSet}\n"
    )
    (tmp_path / "d.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: d}\n")
    (tmp_path / "p.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: d}\n")
    with pytest.raises(KustomizeError, match="matches nothing"):
        build(tmp_path)


def test_strategic_merge_follows_the_kubernetes_merge_keys(tmp_path):
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [d.yaml]\npatches:\n  - path: p.yaml\n"
    )
    (tmp_path / "d.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    "
        "spec:\n"
        "      containers: [{name: a, image: x}, {name: b, image: x, args: [1, 2]}]\n"
    )
    (tmp_path / "p.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    "
        "spec:\n"
        "      containers: [{name: c, image: z}, {name: b, image: y, args: [3]}]\n"
    )
    (doc,) = build(tmp_path)
    assert doc["spec"]["template"]["spec"]["containers"] == [
        {"name": "c", "image": "z"},
        {"name": "b", "image": "y", "args": [3]},  # merged by name; args (atomic) replaced
        {"name": "a", "image": "x"},
    ]


def test_configmap_names_carry_kustomizes_content_hash(tmp_path):
    """The suffix kustomize v5.5 (kubectl 1.32) gives this ConfigMap; Go's JSON escapes <, > and
    &."""
    (tmp_path / "kustomization.yaml").write_text(
        'configMapGenerator:\n  - name: c\n    literals: [A=1, "B=<x> & y"]\n'
    )
    (doc,) = build(tmp_path)
    assert doc["metadata"]["name"] == "c-5476mt986t"
    assert doc["data"] == {"A": "1", "B": "<x> & y"}


# Each rule must be able to fail: break a rendered overlay in one way and the rule names the fault.


def _deployment(docs: list[dict], name: str = "tickets") -> dict:
    return by_kind(docs, "Deployment")[name]


def _app(docs: list[dict], name: str = "tickets") -> dict:
    return _deployment(docs, name)["spec"]["template"]["spec"]["containers"][0]


def _policy(docs: list[dict], name: str) -> dict:
    return by_kind(docs, "NetworkPolicy")[name]


def _drop(docs: list[dict], kind: str, name: str) -> None:
    docs.remove(by_kind(docs, kind)[name])


def _set_password_from(docs: list[dict], secret: str, key: str) -> None:
    (var,) = [v for v in _app(docs)["env"] if v["name"] == "TICKETS_NATS_PASSWORD"]
    var["valueFrom"]["secretKeyRef"] = {"name": secret, "key": key}


FAULTS: dict[str, tuple[Callable[[list[dict]], object], Callable[[list[dict]], list[str]], str]] = {
    "unknown field": (
        lambda d: _app(d).update(imagePullPolice="Always"),
        schema_problems,
        "Deployment/tickets: /spec/template/spec/containers/0",
    ),
    "missing required field": (
        lambda d: by_kind(d, "HorizontalPodAutoscaler")["tickets"]["spec"].pop("maxReplicas"),
        schema_problems,
        "maxReplicas",
    ),
    "wrong type": (
        lambda d: _policy(d, "tickets")["spec"]["ingress"][0]["ports"][0].update(port=[8000]),
        schema_problems,
        "NetworkPolicy/tickets",
    ),
    "kind without schema": (
        lambda d: d.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}),
        schema_problems,
        "no schema",
    ),
    "no autoscaler": (
        lambda d: _drop(d, "HorizontalPodAutoscaler", "surveys"),
        service_object_problems,
        "surveys: no HorizontalPodAutoscaler",
    ),
    "no network policy": (
        lambda d: _drop(d, "NetworkPolicy", "dealers"),
        service_object_problems,
        "dealers: no NetworkPolicy",
    ),
    "no service": (
        lambda d: _drop(d, "Service", "contracts"),
        service_object_problems,
        "contracts: no Service",
    ),
    "latest image": (
        lambda d: _app(d).update(image="aftersales/tickets:latest"),
        image_problems,
        "aftersales/tickets:latest is not pinned",
    ),
    "untagged image": (
        lambda d: _deployment(d)["spec"]["template"]["spec"]["initContainers"][0].update(
            image="aftersales/tickets"
        ),
        image_problems,
        "container migrate: image aftersales/tickets is not pinned",
    ),
    "password copied into the service's secret": (
        lambda d: _set_password_from(d, "tickets-secrets", "TICKETS_NATS_PASSWORD"),
        credential_problems,
        "TICKETS_NATS_PASSWORD is not secretKeyRef nats-users/NATS_PASSWORD_TICKETS",
    ),
    "another user's password": (
        lambda d: _app(d)["env"].append(
            {
                "name": "X",
                "valueFrom": {
                    "secretKeyRef": {"name": "nats-users", "key": "NATS_PASSWORD_DEALERS"}
                },
            }
        ),
        credential_problems,
        "reads another user's password NATS_PASSWORD_DEALERS",
    ),
    "a service with the provisioner's password": (
        lambda d: _set_password_from(d, "nats-users", "NATS_PASSWORD_PROVISIONER"),
        credential_problems,
        "Deployment/tickets reads another user's password NATS_PASSWORD_PROVISIONER",
    ),
    "password in git": (
        lambda d: d.append(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "nats-users"}}
        ),
        credential_problems,
        "passwords never go into Git",
    ),
    "nats without its users": (
        lambda d: by_kind(d, "StatefulSet")["nats"]["spec"]["template"]["spec"]["containers"][
            0
        ].pop("envFrom"),
        credential_problems,
        "StatefulSet/nats",
    ),
    "no default deny": (
        lambda d: _drop(d, "NetworkPolicy", "default-deny"),
        network_problems,
        "no default-deny",
    ),
    "egress to another port": (
        lambda d: _policy(d, "tickets")["spec"]["egress"].append(
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 80}]}
        ),
        network_problems,
        "tickets may connect to ports [80]",
    ),
    "egress on every port": (
        lambda d: _policy(d, "tickets-database")["spec"]["egress"][0].pop("ports"),
        network_problems,
        "an egress rule of tickets without ports or peers",
    ),
    "SMTP from a service that sends no mail": (
        lambda d: _policy(d, "surveys-database")["spec"]["egress"][0]["ports"].append(
            {"protocol": "TCP", "port": 587}
        ),
        network_problems,
        "surveys may connect to ports [587]",
    ),
    "NATS port to every pod": (
        lambda d: _policy(d, "contracts")["spec"]["egress"][0]["to"][0].update(podSelector={}),
        network_problems,
        "contracts may reach port 4222",
    ),
    "a port range": (
        lambda d: _policy(d, "tickets-database")["spec"]["egress"][0]["ports"][0].update(
            endPort=6000
        ),
        network_problems,
        "tickets may connect to ports ['a range']",
    ),
    "NATS port anywhere": (
        lambda d: _policy(d, "contracts")["spec"]["egress"][0]["to"].append(
            {"ipBlock": {"cidr": "0.0.0.0/0"}}
        ),
        network_problems,
        "contracts may reach port 4222",
    ),
    "a CIDR that is no network": (
        lambda d: _policy(d, "tickets-database")["spec"]["egress"][0]["to"][0]["ipBlock"].update(
            cidr="198.51.100.12/33"
        ),
        network_problems,
        "198.51.100.12/33 is not a network address",
    ),
    "no database": (
        lambda d: _drop(d, "NetworkPolicy", "dealers-database"),
        network_problems,
        "dealers cannot connect to ports [5432]",
    ),
    "no DNS": (
        lambda d: _drop(d, "NetworkPolicy", "allow-dns"),
        network_problems,
        "cannot connect to ports [53",
    ),
    "NATS shuts a service out": (
        lambda d: _policy(d, "nats")["spec"]["ingress"][0]["from"].pop(0),
        network_problems,
        "NATS does not admit notifications on 4222",
    ),
    "NATS cluster routes cut": (
        lambda d: _policy(d, "nats")["spec"]["ingress"].pop(1),
        network_problems,
        "the NATS pods do not admit each other on 6222",
    ),
    "NATS open to the world": (
        lambda d: _policy(d, "nats")["spec"]["ingress"].append(
            {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 4222}]}
        ),
        network_problems,
        "NATS admits [{'ipBlock'",
    ),
    "service open to everyone": (
        lambda d: _policy(d, "tickets")["spec"]["ingress"][0]["from"].append({"podSelector": {}}),
        network_problems,
        "NetworkPolicy/tickets: tickets admits",
    ),
    "fixed replicas": (
        lambda d: _deployment(d)["spec"].update(replicas=2),
        lambda docs: autoscaling_problems(docs, "production"),
        "Deployment/tickets sets replicas",
    ),
    "a single pod in production": (
        lambda d: by_kind(d, "HorizontalPodAutoscaler")["tickets"]["spec"].update(minReplicas=1),
        lambda docs: autoscaling_problems(docs, "production"),
        "production: tickets may run a single pod",
    ),
    "no disruption budget": (
        lambda d: _drop(d, "PodDisruptionBudget", "dealers"),
        lambda docs: autoscaling_problems(docs, "production"),
        "production: dealers has no PodDisruptionBudget",
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_check_catches_its_fault(fault):
    breaks, check, expected = FAULTS[fault]
    docs = render("production")
    assert not any(expected in p for p in check(docs))
    breaks(docs)
    problems = check(docs)
    assert any(expected in p for p in problems), problems


DOCKERFILE_FAULTS = {
    "the whole workspace": (
        lambda t: t.replace('--no-dev --package "aftersales-${SERVICE}"', "--no-dev"),
        'without --package "aftersales-${SERVICE}"',
    ),
    "not the lock": (lambda t: t.replace("uv sync --frozen", "uv sync"), "without --frozen"),
    "the test tools": (lambda t: t.replace("--no-dev", "--all-groups"), "without --no-dev"),
    "every service's sources": (
        lambda t: t.replace(
            "COPY services/${SERVICE}/ services/${SERVICE}/", "COPY services/ services/"
        ),
        "copies more than one service's sources",
    ),
    "the whole context into the builder": (
        lambda t: t.replace("COPY --from=metadata /src/ ./", "COPY . ./"),
        "copies more than one service's sources",
    ),
    "more than metadata from the context": (
        lambda t: t.replace("! -name uv.lock ", ""),
        "keeps more than the metadata",
    ),
    "the whole context into the image": (
        lambda t: t.replace("COPY --from=builder /app /app", "COPY . /app"),
        "the runtime stage copies more",
    ),
    "a service missing from the check": (
        lambda t: t.replace("|reports|", "|"),
        "SERVICE check",
    ),
}


@pytest.mark.parametrize("fault", DOCKERFILE_FAULTS)
def test_the_dockerfile_check_catches_a_build_of_more_than_one_service(fault):
    edit, expected = DOCKERFILE_FAULTS[fault]
    text = (ROOT / "infra" / "Dockerfile").read_text()
    broken = edit(text)
    assert broken != text
    assert any(expected in p for p in dockerfile_problems(broken)), dockerfile_problems(broken)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_containers_run_only_what_a_service_image_holds(overlay):
    """An image holds one service and the runtime library, not the developer tools (`aftersales`
    CLI): the init container migrates with `python -m <service> migrate`, the streams Job provisions
    with `python -m aftersales_shared.provision apply`."""
    docs = render(overlay)
    for name in BACKENDS:
        pod = by_kind(docs, "Deployment")[name]["spec"]["template"]["spec"]
        (init,) = pod["initContainers"]
        assert init.get("command", []) + init["args"] == ["python", "-m", name, "migrate"], name
    for name in WEB_APPS:  # no database to migrate
        assert "initContainers" not in by_kind(docs, "Deployment")[name]["spec"]["template"]["spec"]
    job = by_kind(docs, "Job")["streams-apply"]["spec"]["template"]["spec"]["containers"][0]
    assert job["args"][:4] == ["python", "-m", "aftersales_shared.provision", "apply"]
    for doc in docs:
        for c in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            assert "aftersales" not in (c.get("command", []) + c.get("args", []))[:1], c["name"]
