"""Every manifest in deploy/ is valid for the pinned Kubernetes version (strict), and the
validators are live: deliberately broken copies are rejected, each for the reason broken."""

from __future__ import annotations

import copy
from collections.abc import Callable

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.validation import (
    K8S_VERSION,
    WRAPPERS,
    Manifest,
    embedded_type_names,
    graph_nodes,
    load_manifests,
    manifest_errors,
    seldon_schema,
)

MANIFESTS = load_manifests()


def by_id(suffix: str) -> Manifest:
    """The manifest whose id ends with ``suffix`` (file#index:Kind/name)."""
    (found,) = [manifest for manifest in MANIFESTS if manifest.id.endswith(suffix)]
    return found


def test_pinned_kubernetes_version_is_the_one_used():
    # kubernetes-validate falls back to the newest bundled version not above the one asked for:
    # it must not fall back, the pinned version itself has to be bundled.
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}
    assert kubernetes_validate.validate(config_map, K8S_VERSION, strict=True) == K8S_VERSION


def test_the_manifest_set():
    kinds = sorted((manifest.doc["kind"], manifest.doc["metadata"]["name"]) for manifest in MANIFESTS)
    assert kinds == [
        ("ConfigMap", "adapter-config"),
        ("Deployment", "my-model"),
        ("Deployment", "my-model-grpc"),
        ("HorizontalPodAutoscaler", "my-model"),
        ("HorizontalPodAutoscaler", "my-model"),
        ("PodDisruptionBudget", "my-model"),
        ("SeldonDeployment", "my-combiner"),
        ("SeldonDeployment", "my-model"),
        ("SeldonDeployment", "my-router"),
        ("Service", "my-model"),
        ("Service", "my-model-grpc"),
    ]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda manifest: manifest.id)
def test_manifest_is_valid(manifest):
    assert manifest_errors(manifest.doc) == []


def test_seldon_schema_is_a_valid_json_schema_with_known_markers():
    jsonschema.Draft202012Validator.check_schema(seldon_schema())
    assert embedded_type_names() == set(WRAPPERS)


@pytest.mark.parametrize(
    "suffix",
    [":SeldonDeployment/my-model", ":SeldonDeployment/my-router", ":SeldonDeployment/my-combiner"],
)
def test_seldon_graph_nodes_have_containers(suffix):
    """The operator finds each node's container by name (non-prepackaged units need one)."""
    spec = by_id(suffix).doc["spec"]
    for predictor in spec["predictors"]:
        names = [
            container["name"]
            for component in predictor["componentSpecs"]
            for container in component["spec"]["containers"]
        ]
        assert len(names) == len(set(names))
        nodes = list(graph_nodes(predictor["graph"]))
        assert sorted(node["name"] for node in nodes) == sorted(names)
        for node in nodes:
            if node["type"] in ("ROUTER", "COMBINER"):
                assert len(node["children"]) == 2, node["name"]
            else:
                assert node["type"] == "MODEL" and not node.get("children"), node["name"]


def _parts(path: str | tuple) -> list:
    """A dotted path (list indexes as numbers) or a tuple of keys, as keys."""
    if isinstance(path, tuple):
        return list(path)
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def _parent(doc: dict, path: str | tuple) -> tuple[dict | list, object]:
    *parents, last = _parts(path)
    node = doc
    for part in parents:
        node = node[part]
    return node, last


def _set(path: str | tuple, value: object) -> Callable[[dict], None]:
    """A mutation that sets ``path`` to ``value``."""

    def mutate(doc: dict) -> None:
        node, last = _parent(doc, path)
        node[last] = value

    return mutate


def _delete(path: str | tuple) -> Callable[[dict], None]:
    """A mutation that removes ``path``."""

    def mutate(doc: dict) -> None:
        node, last = _parent(doc, path)
        del node[last]

    return mutate


POD = "spec.predictors.0.componentSpecs.0.spec"
TEMPLATE = "spec.template.spec.containers.0"

#: (manifest id suffix, mutation, the path of the error, a word of its message)
BROKEN = {
    "deployment: replicas not an integer": (
        ":Deployment/my-model",
        _set("spec.replicas", "two"),
        "spec.replicas",
        "type",
    ),
    "deployment: unknown container field": (
        ":Deployment/my-model",
        _set(f"{TEMPLATE}.livenessProbes", {}),
        "spec.template.spec.containers.0",
        "livenessProbes",
    ),
    "deployment: grpc probe port as a name": (
        ":Deployment/my-model-grpc",
        _set(f"{TEMPLATE}.readinessProbe.grpc.port", "grpc"),
        "spec.template.spec.containers.0.readinessProbe.grpc.port",
        "type",
    ),
    "service: port as a string": (
        ":Service/my-model",
        _set("spec.ports.0.port", "9000"),
        "spec.ports.0.port",
        "type",
    ),
    "hpa: unknown metric field": (
        "hpa-requests.yaml#0:HorizontalPodAutoscaler/my-model",
        _set("spec.metrics.0.pods.metricName", "x"),
        "spec.metrics.0.pods",
        "metricName",
    ),
    "configmap: data value not a string": (
        ":ConfigMap/adapter-config",
        _set(("data", "config.yaml"), 5),
        "data.config.yaml",
        "type",
    ),
    "seldon: wrong graph type": (
        ":SeldonDeployment/my-model",
        _set("spec.predictors.0.graph.type", "MODELL"),
        "spec.predictors.0.graph.type",
        "MODELL",
    ),
    "seldon: wrong child type": (
        ":SeldonDeployment/my-router",
        _set("spec.predictors.0.graph.children.1.type", "Model"),
        "spec.predictors.0.graph.children.1.type",
        "Model",
    ),
    "seldon: child without a name": (
        ":SeldonDeployment/my-combiner",
        _delete("spec.predictors.0.graph.children.0.name"),
        "spec.predictors.0.graph.children.0",
        "name",
    ),
    "seldon: parameter without a value": (
        ":SeldonDeployment/my-router",
        _delete("spec.predictors.0.graph.parameters.0.value"),
        "spec.predictors.0.graph.parameters.0",
        "value",
    ),
    "seldon: unknown predictor field": (
        ":SeldonDeployment/my-model",
        _set("spec.predictors.0.replica", 2),
        "spec.predictors.0",
        "replica",
    ),
    "seldon: traffic not an integer": (
        ":SeldonDeployment/my-model",
        _set("spec.predictors.0.traffic", "50%"),
        "spec.predictors.0.traffic",
        "type",
    ),
    "seldon: replicas beyond int32": (
        ":SeldonDeployment/my-model",
        _set("spec.predictors.0.replicas", 2**31),
        "spec.predictors.0.replicas",
        "int32",
    ),
    "seldon: unknown protocol": (
        ":SeldonDeployment/my-combiner",
        _set("spec.protocol", "grpc"),
        "spec.protocol",
        "grpc",
    ),
    "seldon: no predictors": (":SeldonDeployment/my-model", _delete("spec.predictors"), "spec", "predictors"),
    "seldon embedded PodSpec: unknown probe field": (
        ":SeldonDeployment/my-model",
        _set(f"{POD}.containers.0.livenessProbe.httpGet.paht", "/health/ping"),
        POD,
        "paht",
    ),
    "seldon embedded PodSpec: grace period as a string": (
        ":SeldonDeployment/my-router",
        _set(f"{POD}.terminationGracePeriodSeconds", "35"),
        POD,
        "terminationGracePeriodSeconds",
    ),
    "seldon embedded PodSpec: container without a name": (
        ":SeldonDeployment/my-combiner",
        _delete(f"{POD}.containers.2.name"),
        POD,
        "name",
    ),
    "seldon embedded ObjectMeta: labels not a map": (
        ":SeldonDeployment/my-model",
        _set("metadata.labels", ["app"]),
        "metadata",
        "labels",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_copy_is_rejected(case):
    suffix, mutate, path, word = BROKEN[case]
    doc = copy.deepcopy(by_id(suffix).doc)
    mutate(doc)
    errors = manifest_errors(doc)
    matching = [error for error in errors if error.startswith(path + ":") and word in error]
    assert matching, errors
