"""The manifests' probes, scrape annotations and autoscaling rule, tried against a real server:
examples/model served by seldon-core-microservice with deploy/plain/model.yaml's environment,
the manifests' ports 9000 / 5000 / 6000 mapped to the test server's free ports."""

from __future__ import annotations

import time

import grpc
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Server, start_server
from tests.deploy import adapter_rules
from tests.deploy.validation import ROOT, all_pod_templates

#: The wrapper's default ports (what the manifests use) and the role of each.
PORT_ROLES = {9000: "http", 5000: "grpc", 6000: "metrics"}
PROBE_KINDS = ("startupProbe", "livenessProbe", "readinessProbe")
PODS = all_pod_templates()
PROBES = [
    (f"{pod.manifest.id}:{container['name']}:{kind}", container, container[kind])
    for pod in PODS
    for container in pod.spec["containers"]
    for kind in PROBE_KINDS
    if kind in container
]
HTTP_PROBES = [(probe_id, c, p) for probe_id, c, p in PROBES if "httpGet" in p]
GRPC_PROBES = [(probe_id, c, p) for probe_id, c, p in PROBES if "grpc" in p]
SCRAPED = [pod for pod in PODS if pod.metadata.get("annotations", {}).get("prometheus.io/scrape") == "true"]


def port_role(port: int | str, container: dict) -> str:
    """http, grpc or metrics: a number of ours, or a port name (declared, else the operator's)."""
    if isinstance(port, str):
        declared = {item["name"]: item["containerPort"] for item in container.get("ports", [])}
        if port not in declared:
            assert port in PORT_ROLES.values(), port  # the Seldon operator's port names
            return port
        port = declared[port]
    return PORT_ROLES[port]


def test_every_kind_of_probe_is_covered():
    assert len(HTTP_PROBES) + len(GRPC_PROBES) == len(PROBES)
    assert HTTP_PROBES and GRPC_PROBES and SCRAPED


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """examples/model with the labels' environment of deploy/plain/model.yaml."""
    (pod,) = [pod for pod in PODS if pod.manifest.id.endswith(":Deployment/my-model")]
    (container,) = pod.spec["containers"]
    env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    running = start_server(
        "MyModel",
        "--service-type",
        "MODEL",
        env=env,
        cwd=ROOT / "examples" / "model",
        tmp_path=tmp_path_factory.mktemp("deploy-live"),
    )
    yield running
    running.stop()


def server_port(server: Server, role: str) -> int:
    return {"http": server.http_port, "grpc": server.grpc_port, "metrics": server.metrics_port}[role]


def grpc_health(server: Server, service: str, timeout: float = 15) -> int:
    """The health status of ``service``, asked again (as the kubelet does) until it is SERVING
    or ``timeout`` passes: the gRPC process loads the model on its own, after REST is ready."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    raise
            else:
                if status == health_pb2.HealthCheckResponse.SERVING or time.monotonic() > deadline:
                    return status
            time.sleep(0.1)


def get_eventually(url: str, timeout: float = 15) -> requests.Response:
    """GET ``url``, retried while nothing listens yet (the metrics server starts with gRPC's)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize(
    "container, probe", [(c, p) for _, c, p in HTTP_PROBES], ids=[i for i, _, _ in HTTP_PROBES]
)
def test_http_probe_answers_200(server, container, probe):
    action = probe["httpGet"]
    assert action.get("scheme", "HTTP") == "HTTP"
    role = port_role(action["port"], container)
    assert role == "http"
    answer = requests.get(f"http://127.0.0.1:{server_port(server, role)}{action['path']}", timeout=5)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "container, probe", [(c, p) for _, c, p in GRPC_PROBES], ids=[i for i, _, _ in GRPC_PROBES]
)
def test_grpc_probe_is_serving(server, container, probe):
    action = probe["grpc"]
    assert port_role(action["port"], container) == "grpc"
    assert grpc_health(server, action.get("service", "")) == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("pod", SCRAPED, ids=lambda pod: pod.manifest.id)
def test_scrape_annotation_answers_metrics(server, pod):
    annotations = pod.metadata["annotations"]
    role = PORT_ROLES[int(annotations["prometheus.io/port"])]
    assert role == "metrics"
    url = f"http://127.0.0.1:{server_port(server, role)}{annotations['prometheus.io/path']}"
    answer = get_eventually(url)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE seldon_api_model_requests_total counter" in answer.text


def test_adapter_rule_selects_our_request_counter(server):
    """The rule's series exists with the labels it matches on, its matchers keep the
    predictions and drop the health probes (namespace and pod come from Prometheus' discovery)."""
    (rule,) = adapter_rules.load_rules()
    for _ in range(3):
        answer = requests.post(
            f"{server.url}/api/v1.0/predictions", json={"data": {"ndarray": [[1.0, 2.0]]}}, timeout=5
        )
        assert answer.status_code == 200
    assert requests.get(f"{server.url}/health/ping", timeout=5).status_code == 200
    assert grpc_health(server, "") == health_pb2.HealthCheckResponse.SERVING

    name = adapter_rules.series_name(rule)
    matchers = [m for m in adapter_rules.matchers(rule) if m.label not in adapter_rules.DISCOVERY_LABELS]
    used = {m.label for m in matchers} | (
        adapter_rules.group_by_labels(rule) - adapter_rules.DISCOVERY_LABELS
    )
    assert used, "the rule selects on no label of ours: nothing to check"

    def totals() -> tuple[list[dict], dict[tuple[str, bool], float]]:
        """The series' label sets, and its values summed by (endpoint, selected by the rule)."""
        scrape = get_eventually(f"http://127.0.0.1:{server.metrics_port}/metrics").text
        samples = [
            sample
            for family in text_string_to_metric_families(scrape)
            for sample in family.samples
            if sample.name == name
        ]
        summed: dict[tuple[str, bool], float] = {}
        for sample in samples:
            key = (sample.labels["endpoint"], all(m.matches(sample.labels) for m in matchers))
            summed[key] = summed.get(key, 0.0) + sample.value
        return [sample.labels for sample in samples], summed

    expected = {
        ("/api/v1.0/predictions", True): 3,
        ("/health/ping", False): 1,
        ("grpc.health.v1.Health/Check", False): 1,
    }
    deadline = time.monotonic() + 5  # a call is counted just after its answer is sent
    while True:
        label_sets, by_endpoint = totals()
        if all(by_endpoint.get(key, 0) >= count for key, count in expected.items()):
            break
        assert time.monotonic() < deadline, by_endpoint
        time.sleep(0.1)

    assert label_sets, f"{name} not in the scrape"
    for labels in label_sets:
        assert used <= set(labels), (used, labels)
        assert not adapter_rules.DISCOVERY_LABELS & set(labels)
    kept = [endpoint for endpoint, selected in by_endpoint if selected]
    assert not [endpoint for endpoint in kept if endpoint.startswith(("/health", "grpc.health"))], kept
    assert adapter_rules.metric_name(rule) == "seldon_api_model_requests_per_second"
