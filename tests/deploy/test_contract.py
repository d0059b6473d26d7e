"""The manifests agree with what the wrapper does: shutdown timing, the annotations file, the
environment variables it reads, its ports and metrics path, and the autoscaling pieces."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from seldon_wrapper.settings import DEFAULT_ANNOTATIONS_FILE, Settings, parse_annotations
from tests.deploy import adapter_rules
from tests.deploy.validation import ROOT, PodTemplate, all_pod_templates, load_manifests

#: Seconds after the grace period for the processes to exit and remove their files (the
#: wrapper's own budget: its 25 s default leaves 5 of Kubernetes' default 30).
EXIT_MARGIN_S = 5
PODS = all_pod_templates()
PLAIN_PODS = [pod for pod in PODS if pod.manifest.doc["kind"] == "Deployment"]
MANIFESTS = load_manifests()


def pod_id(pod: PodTemplate) -> str:
    return pod.manifest.id


def literal_env(container: dict) -> dict[str, str]:
    """The container's environment variables that have a literal value."""
    return {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}


def prestop_seconds(container: dict) -> float:
    """How long the container's preStop hook sleeps (exec ``sleep N`` or the sleep action)."""
    hook = container.get("lifecycle", {}).get("preStop")
    assert hook, f"{container['name']} has no preStop hook"
    if "sleep" in hook:
        return float(hook["sleep"]["seconds"])
    command = hook["exec"]["command"]
    assert os.path.basename(command[0]) == "sleep" and len(command) == 2, command
    return float(command[1])


def grace_seconds(container: dict) -> float:
    """The wrapper's drain time for this container's settings (REST and gRPC, the longer)."""
    settings = Settings.from_env(literal_env(container))
    return max(settings.grace_period, settings.effective_grpc_grace_period)


@pytest.mark.parametrize("pod", PODS, ids=pod_id)
def test_termination_grace_period_covers_prestop_and_drain(pod):
    """The kubelet's countdown starts before preStop runs, then SIGTERM starts the wrapper's drain."""
    budget = pod.spec.get("terminationGracePeriodSeconds", 30)
    for container in pod.spec["containers"]:
        needed = prestop_seconds(container) + grace_seconds(container) + EXIT_MARGIN_S
        assert budget >= needed, (container["name"], budget, needed)


@pytest.mark.parametrize("pod", PODS, ids=pod_id)
def test_liveness_cannot_cut_the_drain_short(pod):
    """Probes may fail while the server drains; liveness must not restart it before it is done."""
    for container in pod.spec["containers"]:
        probe = container["livenessProbe"]
        window = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
        assert window >= prestop_seconds(container) + grace_seconds(container), container["name"]
        assert probe.get("timeoutSeconds", 1) >= 2, "a busy single worker answers probes late"


@pytest.mark.parametrize("pod", PLAIN_PODS, ids=pod_id)
def test_annotations_volume_is_the_file_the_wrapper_reads(pod):
    (container,) = pod.spec["containers"]
    volumes = {volume["name"]: volume for volume in pod.spec["volumes"]}
    files = []
    for mount in container["volumeMounts"]:
        for item in volumes[mount["name"]].get("downwardAPI", {}).get("items", []):
            if item["fieldRef"]["fieldPath"] == "metadata.annotations":
                files.append(os.path.join(mount["mountPath"], item["path"]))
    assert files == [DEFAULT_ANNOTATIONS_FILE]
    # The kubelet writes one key="value" line per annotation, sorted by key.
    annotations = pod.metadata.get("annotations", {})
    rendered = [f'{key}="{value}"' for key, value in sorted(annotations.items())]
    assert parse_annotations(rendered) == annotations


def test_annotation_reaches_the_settings():
    (pod,) = [pod for pod in PLAIN_PODS if pod.manifest.doc["metadata"]["name"] == "my-model"]
    annotations = pod.metadata["annotations"]
    settings = Settings(annotations=parse_annotations(f'{k}="{v}"' for k, v in annotations.items()))
    assert settings.effective_grpc_max_message_size == int(annotations["seldon.io/grpc-max-message-size"])


@pytest.mark.parametrize("pod", PLAIN_PODS, ids=pod_id)
def test_every_env_var_is_read_by_the_wrapper(pod):
    """Each variable changes the Settings when set, so no name is misspelt or unknown."""
    (container,) = pod.spec["containers"]
    unset = Settings.from_env({})
    for name in literal_env(container):
        assert Settings.from_env({name: "7"}) != unset, name


@pytest.mark.parametrize("pod", PLAIN_PODS, ids=pod_id)
def test_metric_labels_from_the_env(pod):
    (container,) = pod.spec["containers"]
    settings = Settings.from_env(literal_env(container))
    assert settings.predictive_unit_id == container["name"]
    assert f"{settings.image_name}:{settings.image_version}" == container["image"]
    assert settings.deployment_id == pod.manifest.doc["metadata"]["name"]
    assert settings.predictor_id != "NOT_IMPLEMENTED"


@pytest.mark.parametrize("pod", PLAIN_PODS, ids=pod_id)
def test_container_ports_are_the_wrapper_defaults(pod):
    (container,) = pod.spec["containers"]
    defaults = Settings()
    expected = {"http": defaults.http_port, "grpc": defaults.grpc_port, "metrics": defaults.metrics_port}
    for port in container["ports"]:
        assert port["containerPort"] == expected[port["name"]], port


@pytest.mark.parametrize("pod", PLAIN_PODS, ids=pod_id)
def test_scrape_annotations_name_the_metrics_port_and_path(pod):
    (container,) = pod.spec["containers"]
    annotations = pod.metadata["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert int(annotations["prometheus.io/port"]) == ports["metrics"]
    assert annotations["prometheus.io/path"] == Settings.from_env(literal_env(container)).metrics_endpoint


def test_services_target_declared_ports():
    for manifest in MANIFESTS:
        if manifest.doc["kind"] != "Service":
            continue
        selector = manifest.doc["spec"]["selector"]
        (deployment,) = [
            m.doc
            for m in MANIFESTS
            if m.doc["kind"] == "Deployment" and m.doc["spec"]["selector"]["matchLabels"] == selector
        ]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        names = {port["name"] for port in container["ports"]}
        for port in manifest.doc["spec"]["ports"]:
            assert port["targetPort"] in names, (manifest.id, port)


def test_the_request_rate_hpa_replaces_the_cpu_one():
    hpas = [m.doc for m in MANIFESTS if m.doc["kind"] == "HorizontalPodAutoscaler"]
    assert len(hpas) == 2
    assert len({(hpa["metadata"]["name"], hpa["metadata"].get("namespace")) for hpa in hpas}) == 1
    assert len({str(hpa["spec"]["scaleTargetRef"]) for hpa in hpas}) == 1
    target = hpas[0]["spec"]["scaleTargetRef"]
    assert any(
        m.doc["kind"] == target["kind"] and m.doc["metadata"]["name"] == target["name"] for m in MANIFESTS
    )


def test_hpa_pods_metric_is_the_adapter_rules_name():
    (rule,) = adapter_rules.load_rules()
    assert adapter_rules.series_name(rule) == "seldon_api_model_requests_total"
    assert adapter_rules.resource_labels(rule) == adapter_rules.DISCOVERY_LABELS
    names = [
        metric["pods"]["metric"]["name"]
        for m in MANIFESTS
        if m.doc["kind"] == "HorizontalPodAutoscaler"
        for metric in m.doc["spec"]["metrics"]
        if metric["type"] == "Pods"
    ]
    assert names == [adapter_rules.metric_name(rule)] == ["seldon_api_model_requests_per_second"]


def test_the_guide_shows_the_rule_that_is_deployed():
    """docs/deployment.md quotes the adapter rule; the quote must be the manifest's rule."""
    text = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(block) for block in re.findall(r"^```yaml\n(.*?)^```$", text, re.M | re.S)]
    quoted = [block["rules"] for block in blocks if isinstance(block, dict) and "rules" in block]
    assert quoted == [adapter_rules.load_rules()]
