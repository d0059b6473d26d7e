"""The manifests of examples/graph-tokeniser and examples/graph-ab, validated offline.

Each file is checked like deploy/ (tests/deploy/validation.py): built-in kinds against
Kubernetes' own schemas for the pinned version in strict mode, SeldonDeployments against the
trimmed CRD schema. The plain Deployments run seldon-core-executor on the SeldonDeployment held
in their ConfigMap: that copy must be a valid SeldonDeployment with the same graphs and
containers as seldondeployment.yaml, and the executor's flags must bind every node that needs
a class to a folder of the example that holds one.
"""

from __future__ import annotations

import copy
import pathlib

import pytest
import yaml

from seldon_wrapper.executor import graph as executor_graph
from seldon_wrapper.executor import settings as executor_settings
from tests.deploy.validation import (
    ROOT,
    Manifest,
    graph_nodes,
    manifest_errors,
    pod_templates,
)

EXAMPLES = ROOT / "examples"
FILES = {
    "graph-tokeniser": ("seldondeployment.yaml", "deployment.yaml"),
    "graph-ab": ("seldondeployment.yaml", "deployment.yaml"),
}
#: Where deployment.yaml's images hold the example's class folders.
MODELS_DIR = "/models/"
EXECUTOR_FLAGS = {"sdep", "namespace", "predictor", "file", "http_port", "grpc_port", "protocol", "component"}


def load(path: pathlib.Path) -> list[Manifest]:
    docs = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    return [Manifest(path, index, doc) for index, doc in enumerate(doc for doc in docs if doc is not None)]


MANIFESTS = [
    manifest
    for example, files in FILES.items()
    for name in files
    for manifest in load(EXAMPLES / example / name)
]


def sdep(example: str) -> dict:
    (manifest,) = load(EXAMPLES / example / "seldondeployment.yaml")
    return manifest.doc


def plain(example: str, kind: str) -> list[dict]:
    return [
        manifest.doc
        for manifest in load(EXAMPLES / example / "deployment.yaml")
        if manifest.doc["kind"] == kind
    ]


def configmap_sdep(example: str) -> dict:
    (config_map,) = plain(example, "ConfigMap")
    return yaml.safe_load(config_map["data"]["graph.yaml"])


def executor_args(args: list[str]) -> dict[str, list[str]]:
    """``--name value`` pairs of the executor's command line, every value of a repeated flag."""
    assert len(args) % 2 == 0, args
    flags: dict[str, list[str]] = {}
    for name, value in zip(args[::2], args[1::2], strict=True):
        assert name.startswith("--"), name
        flags.setdefault(name[2:], []).append(value)
    return flags


def called_nodes(graph: dict) -> list[dict]:
    """The nodes that need a class: all but a RANDOM_ABTEST, which the executor routes itself."""
    return [node for node in graph_nodes(graph) if node.get("implementation") != "RANDOM_ABTEST"]


def containers(predictor: dict) -> list[dict]:
    return [
        container
        for component in predictor["componentSpecs"]
        for container in component["spec"]["containers"]
    ]


# -- validity ------------------------------------------------------------------------------------


def test_the_manifest_set():
    kinds = sorted(
        (manifest.path.parent.name, manifest.doc["kind"], manifest.doc["metadata"]["name"])
        for manifest in MANIFESTS
    )
    assert kinds == [
        ("graph-ab", "ConfigMap", "graph-ab-graph"),
        ("graph-ab", "Deployment", "graph-ab-abtest"),
        ("graph-ab", "Deployment", "graph-ab-combiner"),
        ("graph-ab", "Deployment", "graph-ab-router"),
        ("graph-ab", "SeldonDeployment", "graph-ab"),
        ("graph-ab", "Service", "graph-ab-abtest"),
        ("graph-ab", "Service", "graph-ab-combiner"),
        ("graph-ab", "Service", "graph-ab-router"),
        ("graph-tokeniser", "ConfigMap", "gpt2-graph"),
        ("graph-tokeniser", "Deployment", "gpt2"),
        ("graph-tokeniser", "SeldonDeployment", "gpt2"),
        ("graph-tokeniser", "Service", "gpt2"),
    ]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda manifest: manifest.id)
def test_manifest_is_valid(manifest):
    assert manifest_errors(manifest.doc) == []


@pytest.mark.parametrize("example", sorted(FILES))
def test_the_configmaps_seldondeployment_is_valid(example):
    assert manifest_errors(configmap_sdep(example)) == []


@pytest.mark.parametrize("example", sorted(FILES))
def test_the_configmap_holds_the_graphs_of_seldondeployment_yaml(example):
    """What the executor reads (graphs, protocol, container names, images, env) is the same."""
    full, copied = sdep(example), configmap_sdep(example)
    assert copied["metadata"]["name"] == full["metadata"]["name"]
    assert copied["spec"]["protocol"] == full["spec"]["protocol"]
    assert len(copied["spec"]["predictors"]) == len(full["spec"]["predictors"])
    for ours, theirs in zip(copied["spec"]["predictors"], full["spec"]["predictors"], strict=True):
        assert ours["name"] == theirs["name"]
        assert ours["graph"] == theirs["graph"]
        assert ours.get("traffic") == theirs.get("traffic")
        assert [(c["name"], c["image"], c.get("env", [])) for c in containers(ours)] == [
            (c["name"], c["image"], c.get("env", [])) for c in containers(theirs)
        ]


def test_broken_copies_are_rejected():
    """The validators are live for these files too (one break per kind of document)."""
    broken = copy.deepcopy(sdep("graph-ab"))
    broken["spec"]["predictors"][1]["graph"]["parameters"][0]["value"] = 0.75  # must be a string
    assert any("parameters.0.value" in error for error in manifest_errors(broken))
    broken = copy.deepcopy(sdep("graph-tokeniser"))
    broken["spec"]["protocol"] = "V2"
    assert any(error.startswith("spec.protocol:") for error in manifest_errors(broken))
    (deployment,) = plain("graph-tokeniser", "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["args"].append(8000)
    assert manifest_errors(broken) != []


# -- the graphs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", sorted(FILES))
def test_each_node_that_needs_a_class_has_one_container(example):
    """The operator finds a node's container by its name; each container serves one node."""
    for predictor in sdep(example)["spec"]["predictors"]:
        names = [container["name"] for container in containers(predictor)]
        assert len(names) == len(set(names))
        assert sorted(node["name"] for node in called_nodes(predictor["graph"])) == sorted(names)


def test_the_tokeniser_graph_is_the_tutorials():
    spec = sdep("graph-tokeniser")["spec"]
    assert spec["protocol"] == "v2"
    (predictor,) = spec["predictors"]
    assert [node["name"] for node in graph_nodes(predictor["graph"])] == [
        "tokeniser-encoder",
        "gpt2",
        "tokeniser-decoder",
    ]
    images = {c["name"]: c["image"] for c in containers(predictor)}
    assert images["tokeniser-encoder"] == images["tokeniser-decoder"] != images["gpt2"]
    roles = {c["name"]: {e["name"]: e["value"] for e in c.get("env", [])} for c in containers(predictor)}
    assert roles["tokeniser-encoder"] == {"SELDON_TOKENIZER_TYPE": "ENCODER"}
    assert roles["tokeniser-decoder"] == {"SELDON_TOKENIZER_TYPE": "DECODER"}
    assert roles["gpt2"] == {}


def test_the_ab_graphs():
    spec = sdep("graph-ab")["spec"]
    assert spec["protocol"] == "seldon"
    predictors = {predictor["name"]: predictor for predictor in spec["predictors"]}
    assert sorted(predictors) == ["abtest", "combiner", "router"]
    assert sum(predictor["traffic"] for predictor in predictors.values()) == 100  # the operator's rule
    roots = {name: predictor["graph"] for name, predictor in predictors.items()}
    assert roots["router"]["type"] == "ROUTER"
    assert roots["combiner"]["type"] == "COMBINER"
    assert roots["abtest"]["implementation"] == "RANDOM_ABTEST" and "type" not in roots["abtest"]
    assert roots["abtest"]["parameters"] == [{"name": "ratioA", "type": "FLOAT", "value": "0.75"}]
    for root in roots.values():
        assert [(child["name"], child["type"]) for child in root["children"]] == [
            ("model-a", "MODEL"),
            ("model-b", "MODEL"),
        ]
    assert predictors["router"]["replicas"] == 1  # the router's rewards live in its process


# -- the executor's command line -------------------------------------------------------------------


def deployments() -> list[tuple[str, dict]]:
    return [(example, doc) for example in sorted(FILES) for doc in plain(example, "Deployment")]


@pytest.mark.parametrize(
    "example, deployment",
    deployments(),
    ids=lambda value: value if isinstance(value, str) else value["metadata"]["name"],
)
def test_the_executor_runs_a_predictor_of_the_configmap(example, deployment):
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["seldon-core-executor"]
    flags = executor_args(container["args"])
    assert set(flags) == EXECUTOR_FLAGS
    single = {name: values[0] for name, values in flags.items() if name != "component"}
    assert all(len(flags[name]) == 1 for name in single)
    graph = configmap_sdep(example)
    assert single["sdep"] == graph["metadata"]["name"]
    assert single["protocol"] == graph["spec"]["protocol"]
    assert single["namespace"] == "$(POD_NAMESPACE)"
    assert {
        "name": "POD_NAMESPACE",
        "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
    } in container["env"]
    (predictor,) = [p for p in graph["spec"]["predictors"] if p["name"] == single["predictor"]]
    # --file is graph.yaml of the ConfigMap, mounted read-only.
    (config_map,) = plain(example, "ConfigMap")
    (volume,) = [volume for volume in pod["volumes"] if "configMap" in volume]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    (mount,) = [mount for mount in container["volumeMounts"] if mount["name"] == volume["name"]]
    assert mount["readOnly"] is True
    assert single["file"] == f"{mount['mountPath']}/graph.yaml"
    # Ports: the flags, the container's named ports and the probes agree.
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert (
        ports
        == {"http": int(single["http_port"]), "grpc": int(single["grpc_port"])}
        == {"http": 8000, "grpc": 5001}
    )
    assert container["livenessProbe"]["httpGet"] == {"path": "/live", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    # Every node that needs a class is bound, to a folder of this example holding it.
    bindings = dict(binding.split("=", 1) for binding in flags["component"])
    assert sorted(bindings) == sorted(node["name"] for node in called_nodes(predictor["graph"]))
    for node, directory in bindings.items():
        assert directory.startswith(MODELS_DIR), directory
        folder = EXAMPLES / example / directory.removeprefix(MODELS_DIR)
        settings = dict(
            line.split("=", 1)
            for line in (folder / ".s2i" / "environment").read_text().splitlines()
            if line.strip()
        )
        assert (folder / f"{settings['MODEL_NAME']}.py").is_file(), node
        container_of_node = [c for c in containers(predictor) if c["name"] == node]
        assert container_of_node, node


def test_every_predictor_of_the_ab_graph_has_its_deployment():
    predictors = {p["name"] for p in configmap_sdep("graph-ab")["spec"]["predictors"]}
    run = {
        executor_args(doc["spec"]["template"]["spec"]["containers"][0]["args"])["predictor"][0]
        for doc in plain("graph-ab", "Deployment")
    }
    assert run == predictors
    (router,) = [
        doc for doc in plain("graph-ab", "Deployment") if doc["metadata"]["name"] == "graph-ab-router"
    ]
    assert router["spec"]["replicas"] == 1 and router["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize("example", sorted(FILES))
def test_services_select_their_deployments_pods(example):
    services = {doc["metadata"]["name"]: doc for doc in plain(example, "Service")}
    for deployment in plain(example, "Deployment"):
        service = services[deployment["metadata"]["name"]]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
        assert service["spec"]["selector"].items() <= labels.items()
        assert {port["targetPort"] for port in service["spec"]["ports"]} == {"http", "grpc"}


@pytest.mark.parametrize(
    "manifest", [m for m in MANIFESTS if m.doc["kind"] == "Deployment"], ids=lambda m: m.id
)
def test_pods_run_locked_down(manifest):
    for pod in pod_templates(manifest):
        assert pod.spec["securityContext"]["runAsNonRoot"] is True
        for container in pod.spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]
            # A read-only root needs a writable /tmp for the node servers.
            assert any(mount["mountPath"] == "/tmp" for mount in container["volumeMounts"])


@pytest.mark.parametrize(
    "example, deployment",
    deployments(),
    ids=lambda value: value if isinstance(value, str) else value["metadata"]["name"],
)
def test_the_executor_accepts_the_command_line_and_the_graph(example, deployment, tmp_path):
    """The executor's own readers, with the image's paths pointed at this checkout."""
    (config_map,) = plain(example, "ConfigMap")
    (tmp_path / "graph.yaml").write_text(config_map["data"]["graph.yaml"], encoding="utf-8")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    replacements = {
        "/etc/seldon/": f"{tmp_path}/",
        MODELS_DIR: f"{EXAMPLES / example}/",
        "$(POD_NAMESPACE)": "models",
    }
    args = []
    for arg in container["args"]:
        for old, new in replacements.items():
            arg = arg.replace(old, new)
        args.append(arg)
    settings = executor_settings.parse(args, env={})
    predictor = executor_graph.from_file(settings.file, settings.predictor, settings.namespace)
    executor_graph.check(predictor, [binding.node for binding in settings.components])
    for binding in settings.components:
        folder = pathlib.Path(binding.directory)
        assert (folder / f"{binding.class_name}.py").is_file(), binding
        assert binding.node in predictor.containers, binding
    if example == "graph-tokeniser":
        env = {name: dict(container.env) for name, container in predictor.containers.items()}
        assert env == {
            "tokeniser-encoder": {"SELDON_TOKENIZER_TYPE": "ENCODER"},
            "gpt2": {},
            "tokeniser-decoder": {"SELDON_TOKENIZER_TYPE": "DECODER"},
        }
    if settings.predictor == "abtest":
        assert predictor.graph.ab_test and predictor.graph.ratio_a == 0.75
