"""Offline validation of the Kubernetes manifests in deploy/ (no cluster, no network).

Built-in kinds are checked by kubernetes-validate against Kubernetes' own schemas for one pinned
version, in strict mode (unknown fields rejected). SeldonDeployments have no built-in schema:
they are checked against deploy/crd/seldondeployment-v1.schema.json (trimmed from the Seldon Core
CRD, see deploy/crd/SOURCE.md), whose ``x-embedded-kubernetes-type`` nodes (a PodSpec, a
Container, ...) are handed back to Kubernetes' schemas for the same version.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

#: The Kubernetes version every manifest is validated against (docs/deployment.md says which).
K8S_VERSION = "1.34"

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMA_PATH = DEPLOY / "crd" / "seldondeployment-v1.schema.json"
#: Folders whose *.yaml / *.yml files are manifests.
MANIFEST_DIRS = (DEPLOY, ROOT / "examples" / "docker")
EMBEDDED_KEYWORD = "x-embedded-kubernetes-type"
SELDON_API_GROUP = "machinelearning.seldon.io/"


def _pod(spec: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "embedded"}, "spec": spec}


def _container(**fields: Any) -> dict:
    return {"name": "embedded", **fields}


#: How each embedded Kubernetes type is wrapped into a Pod, the smallest object
#: kubernetes-validate's public API validates that holds it.
WRAPPERS: dict[str, Callable[[Any], dict]] = {
    "io.k8s.api.core.v1.PodSpec": _pod,
    "io.k8s.api.core.v1.Container": lambda value: _pod({"containers": [value]}),
    "io.k8s.api.core.v1.ResourceRequirements": lambda value: _pod(
        {"containers": [_container(resources=value)]}
    ),
    "io.k8s.api.core.v1.EnvVar": lambda value: _pod({"containers": [_container(env=[value])]}),
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": lambda value: {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": value,
        "spec": {"containers": [_container()]},
    },
}


@dataclass(frozen=True)
class Manifest:
    """One YAML document of a manifest file."""

    path: pathlib.Path
    index: int
    doc: dict

    @property
    def id(self) -> str:
        """A readable test id: file, kind and name."""
        name = self.doc.get("metadata", {}).get("name", "?")
        return f"{self.path.relative_to(ROOT)}#{self.index}:{self.doc.get('kind')}/{name}"


def load_manifests() -> list[Manifest]:
    """Every non-empty YAML document under MANIFEST_DIRS, in a stable order."""
    manifests = []
    for folder in MANIFEST_DIRS:
        paths = sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")])
        for path in paths:
            docs = yaml.safe_load_all(path.read_text(encoding="utf-8"))
            for index, doc in enumerate(doc for doc in docs if doc is not None):
                manifests.append(Manifest(path, index, doc))
    return manifests


def _k8s_errors(doc: dict) -> list[str]:
    """Errors of a built-in object against Kubernetes' strict schema ([] when valid)."""
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'.'.join(str(part) for part in exc.path)}: {exc.message}"]
    return []


def _embedded(
    validator: Any, type_name: str, instance: Any, schema: dict
) -> Iterator[jsonschema.ValidationError]:
    """The ``x-embedded-kubernetes-type`` keyword: the node must be a valid ``type_name``."""
    for error in _k8s_errors(WRAPPERS[type_name](instance)):
        yield jsonschema.ValidationError(f"{type_name} (Kubernetes {K8S_VERSION}, wrapped in a Pod): {error}")


def _int_format(bits: int) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return not isinstance(value, int) or -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)

    return check


FORMATS = jsonschema.FormatChecker()
FORMATS.checks("int32")(_int_format(32))
FORMATS.checks("int64")(_int_format(64))

SeldonValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, validators={EMBEDDED_KEYWORD: _embedded}
)


@cache
def seldon_schema() -> dict:
    """The trimmed SeldonDeployment schema (deploy/crd/SOURCE.md)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def seldon_validator() -> Any:
    """A validator of SeldonDeployments: the trimmed CRD schema plus embedded Kubernetes types."""
    return SeldonValidator(seldon_schema(), format_checker=FORMATS)


def manifest_errors(doc: dict) -> list[str]:
    """``path: message`` for everything wrong with one manifest document ([] when valid)."""
    if str(doc.get("apiVersion", "")).startswith(SELDON_API_GROUP):
        errors = seldon_validator().iter_errors(doc)
        return [f"{'.'.join(str(part) for part in error.absolute_path)}: {error.message}" for error in errors]
    return _k8s_errors(doc)


def embedded_type_names(node: Any = None) -> set[str]:
    """Every ``x-embedded-kubernetes-type`` value used in the Seldon schema."""
    node = seldon_schema() if node is None else node
    found: set[str] = set()
    if isinstance(node, dict):
        if EMBEDDED_KEYWORD in node:
            found.add(node[EMBEDDED_KEYWORD])
        for value in node.values():
            found |= embedded_type_names(value)
    elif isinstance(node, list):
        for value in node:
            found |= embedded_type_names(value)
    return found


# -- walking manifests -------------------------------------------------------------------------


@dataclass(frozen=True)
class PodTemplate:
    """A pod a manifest creates: its metadata (as written) and spec."""

    manifest: Manifest
    metadata: dict
    spec: dict


def pod_templates(manifest: Manifest) -> list[PodTemplate]:
    """The pods of a Deployment (its template) or of a SeldonDeployment (its componentSpecs)."""
    doc = manifest.doc
    if doc.get("kind") == "Deployment":
        template = doc["spec"]["template"]
        return [PodTemplate(manifest, template.get("metadata", {}), template["spec"])]
    if doc.get("kind") == "SeldonDeployment":
        return [
            PodTemplate(manifest, component.get("metadata", {}), component["spec"])
            for predictor in doc["spec"]["predictors"]
            for component in predictor.get("componentSpecs", [])
        ]
    return []


def all_pod_templates() -> list[PodTemplate]:
    """The pods of every manifest."""
    return [pod for manifest in load_manifests() for pod in pod_templates(manifest)]


def graph_nodes(node: dict) -> Iterator[dict]:
    """A SeldonDeployment graph node and all its descendants."""
    yield node
    for child in node.get("children", []):
        yield from graph_nodes(child)
