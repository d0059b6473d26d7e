"""LocalComponents: bound graph nodes run as real ``seldon-core-microservice`` processes on 127.0.0.1.

Two nodes are served by the same class from the same folder and differ only by the env of their
containers in ``componentSpecs``: each must answer with its own. A class that cannot start is
named and leaves nothing behind; a killed node comes back on its port; stop() ends whole groups.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import time

import pytest
import requests

from seldon_wrapper.executor.components import ComponentError, LocalComponents, free_port
from seldon_wrapper.executor.graph import Endpoint, predictor_from_spec
from seldon_wrapper.executor.settings import Binding
from tests.conftest import MODELS_DIR

SPEC = {
    "name": "main",
    "componentSpecs": [
        {
            "spec": {
                "containers": [
                    {
                        "name": "first",
                        "image": "repo/echo:0.1",
                        "env": [
                            {"name": "GRAPH_COLOUR", "value": "red"},
                            # The operator's own variables win over the container's.
                            {"name": "PREDICTIVE_UNIT_ID", "value": "spoofed"},
                        ],
                    },
                    {
                        "name": "second",
                        "image": "repo/echo:0.2",
                        "env": [{"name": "GRAPH_COLOUR", "value": "blue"}],
                    },
                ]
            }
        },
        {"spec": {"containers": [{"name": "third", "image": "repo/remote:1.0"}]}},
    ],
    "graph": {
        "name": "first",
        "type": "TRANSFORMER",
        "parameters": [{"name": "greeting", "value": "hello", "type": "STRING"}],
        "children": [{"name": "second", "type": "MODEL", "children": [{"name": "third", "type": "MODEL"}]}],
    },
}
#: What the executor's own environment holds that no container would (or should) see.
LEAKED = {
    "PREDICTIVE_UNIT_PARAMETERS": json.dumps([{"name": "greeting", "value": "leaked", "type": "STRING"}]),
    "PREDICTIVE_UNIT_ID": "executor",
    "PREDICTOR_ID": "leaked",
    "SELDON_DEPLOYMENT_ID": "leaked",
    "PROMETHEUS_MULTIPROC_DIR": "/leaked/metrics",
    "GRAPH_COLOUR": "inherited",
    "GRAPH_INHERITED": "yes",
}
MODELS = str(MODELS_DIR)


def _predictor():
    return predictor_from_spec(SPEC, "mydep", "ns")


def _echo_bindings() -> list[Binding]:
    return [Binding("first", MODELS, "GraphEnvEcho"), Binding("second", MODELS, "GraphEnvEcho")]


def _live_members(pgid: int) -> list[int]:
    """Pids of the process group that are still running (zombies awaiting a reaper do not count)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = pathlib.Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            members.append(int(entry))
    return members


def _wait_group_gone(pgid: int, timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (members := _live_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return members


def _predict(endpoint: Endpoint) -> dict:
    url = f"http://{endpoint.service_host}:{endpoint.http_port}/predict"
    response = requests.post(url, json={"data": {"ndarray": [[1.0]]}}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["jsonData"]


def _wait_ping(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health/ping", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not answer /health/ping within {timeout}s")


@pytest.fixture
def make():
    """``make(bindings, **kwargs)`` -> LocalComponents; every one is stopped after the test."""
    made: list[LocalComponents] = []

    def _make(bindings, **kwargs) -> LocalComponents:
        kwargs.setdefault("start_timeout_s", 30.0)
        components = LocalComponents(_predictor(), bindings, deployment="mydep", namespace="ns", **kwargs)
        made.append(components)
        return components

    yield _make
    for components in made:
        components.stop(grace_s=5.0)


@pytest.fixture(scope="module")
def running():
    """Both echo nodes started once for the module, from an environment with leaks to drop."""
    components = LocalComponents(
        _predictor(), _echo_bindings(), deployment="mydep", namespace="ns", start_timeout_s=30.0
    )
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in LEAKED.items():
                patch.setenv(name, value)
            predictor = components.start()
        yield components, predictor
    finally:
        components.stop(grace_s=5.0)


def test_start_points_bound_nodes_at_their_processes(running):
    components, predictor = running
    first, second, third = (predictor.node(name).endpoint for name in ("first", "second", "third"))
    assert first.service_host == second.service_host == "127.0.0.1"
    assert first.service_port == first.http_port and second.service_port == second.http_port
    ports = {first.http_port, first.grpc_port, second.http_port, second.grpc_port}
    assert len(ports) == 4
    # The unbound node keeps the endpoint the operator's defaulting gave it.
    assert third == _predictor().node("third").endpoint
    assert third.service_host == "mydep-main-third.ns.svc.cluster.local"
    assert set(components.pids) == {"first", "second"}


def test_each_node_answers_with_its_own_container_environment(running):
    _, predictor = running
    first = _predict(predictor.node("first").endpoint)
    second = _predict(predictor.node("second").endpoint)
    assert first["greeting"] == "hello"  # graph parameters -> PREDICTIVE_UNIT_PARAMETERS
    assert second["greeting"] == "none"  # the executor's own PREDICTIVE_UNIT_PARAMETERS is not passed on
    assert first["env"]["GRAPH_COLOUR"] == "red" and second["env"]["GRAPH_COLOUR"] == "blue"
    assert first["env"]["PREDICTIVE_UNIT_ID"] == "first" and second["env"]["PREDICTIVE_UNIT_ID"] == "second"
    assert first["env"]["PREDICTIVE_UNIT_IMAGE"] == "repo/echo:0.1"
    assert second["env"]["PREDICTIVE_UNIT_IMAGE"] == "repo/echo:0.2"
    for answer, name in ((first, "first"), (second, "second")):
        env = answer["env"]
        assert env["PREDICTOR_ID"] == "main" and env["SELDON_DEPLOYMENT_ID"] == "mydep"
        assert env["PREDICTIVE_UNIT_HTTP_SERVICE_PORT"] == str(predictor.node(name).endpoint.http_port)
        assert env["GRAPH_INHERITED"] == "yes"
        assert env["PROMETHEUS_MULTIPROC_DIR"] != "/leaked/metrics"
        assert answer["cwd"] == MODELS
    assert first["pid"] != second["pid"]


def test_command_carries_the_service_type_of_the_node(running):
    components, _ = running
    cmdlines = {
        node: pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        for node, pid in components.pids.items()
    }
    first, second = cmdlines["first"], cmdlines["second"]
    assert first[first.index(b"--service-type") + 1] == b"TRANSFORMER"
    assert second[second.index(b"--service-type") + 1] == b"MODEL"
    assert b"seldon_wrapper.cli" in first and b"GraphEnvEcho" in first


def test_poll_restarts_a_killed_node_on_its_port(running, capfd, caplog):
    components, predictor = running
    assert components.poll() == []
    old_pid = components.pids["second"]
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    restarted: list[str] = []
    while not restarted and time.monotonic() < deadline:
        restarted = components.poll()
        time.sleep(0.02)
    assert restarted == ["second"]
    assert components.pids["second"] != old_pid
    assert _wait_group_gone(old_pid) == []  # its gRPC child and REST worker went with it
    endpoint = predictor.node("second").endpoint
    _wait_ping(endpoint.http_port)
    answer = _predict(endpoint)
    assert answer["env"]["GRAPH_COLOUR"] == "blue" and answer["pid"] in _live_members(
        components.pids["second"]
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "second" in warnings[0] and "-9" in warnings[0]
    err = capfd.readouterr().err
    started = [line for line in err.splitlines() if "Starting seldon-wrapper" in line]
    assert started and all(line.startswith("[second] ") for line in started)


def test_a_class_that_fails_at_import_is_named_and_nothing_is_left(make, capfd):
    components = make(
        [Binding("second", MODELS, "GraphEnvEcho"), Binding("first", MODELS, "GraphBrokenImport")]
    )
    with pytest.raises(ComponentError) as raised:
        components.start()
    message = str(raised.value)
    assert "'first'" in message and "exploded at import time" in message
    assert "\n" not in message
    pids = components.pids
    assert set(pids) == {"first", "second"}
    for pid in pids.values():
        assert _wait_group_gone(pid) == []
    assert "[first] GraphBrokenImport is about to fail" in capfd.readouterr().out


def test_a_class_too_slow_to_start_times_out(make):
    components = make([Binding("slow", MODELS, "GraphSlowStart")], start_timeout_s=2.0)
    components.predictor = predictor_from_spec(
        {"name": "main", "graph": {"name": "slow", "endpoint": {"httpPort": 1}}}, "mydep", "ns"
    )
    started = time.monotonic()
    with pytest.raises(ComponentError, match=r"'slow'.*did not answer GET /health/ping within 2s"):
        components.start()
    assert time.monotonic() - started < 10
    assert _wait_group_gone(components.pids["slow"]) == []


def test_stop_ends_every_process_of_each_group(make):
    components = make([Binding("second", MODELS, "GraphEnvEcho")], extra_args=("--workers", "2"))
    components.start()
    pgid = components.pids["second"]
    assert len(_live_members(pgid)) >= 3  # the arbiter, its REST workers, the gRPC process
    components.stop(grace_s=10.0)
    assert _wait_group_gone(pgid, timeout=2.0) == []
    assert components.poll() == []  # nothing comes back after stop


def test_a_binding_to_an_unknown_node_is_refused(make):
    with pytest.raises(ComponentError, match="'nowhere'"):
        make([Binding("nowhere", MODELS, "GraphEnvEcho")]).start()


def test_environment_layers_as_the_operator_sets_them():
    spec = json.loads(json.dumps(SPEC))
    spec["componentSpecs"][0]["spec"]["containers"][0]["env"] += [
        {"name": "PREDICTIVE_UNIT_PARAMETERS", "value": "[]"},
        {"name": "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "value": "1"},
    ]
    predictor = predictor_from_spec(spec, "mydep", "ns")
    components = LocalComponents(predictor, [], deployment="mydep", namespace="ns")
    inherited = {**LEAKED, "HOME": "/home/x"}
    env = components.environment(predictor.node("first"), 11, 12, 13, inherited=inherited)
    assert env["HOME"] == "/home/x" and env["GRAPH_INHERITED"] == "yes"
    assert env["GRAPH_COLOUR"] == "red"  # the container's env wins over the inherited one
    assert env["PREDICTIVE_UNIT_PARAMETERS"] == "[]"  # the operator leaves a container's own
    assert env["PREDICTIVE_UNIT_ID"] == "first"
    ports = ("SERVICE_PORT", "HTTP_SERVICE_PORT", "GRPC_SERVICE_PORT", "METRICS_SERVICE_PORT")
    assert [env[f"PREDICTIVE_UNIT_{p}"] for p in ports] == ["11", "11", "12", "13"]
    assert "PROMETHEUS_MULTIPROC_DIR" not in env
    third = components.environment(predictor.node("third"), 1, 2, 3, inherited={})
    assert third["PREDICTIVE_UNIT_IMAGE"] == "repo/remote:1.0" and "PREDICTIVE_UNIT_PARAMETERS" not in third


def test_free_port_skips_excluded_ports():
    first = free_port()
    assert free_port(exclude={first}) != first


def _predict_over_unix(path: str) -> dict:
    """A v1 predict sent on the Unix socket at ``path`` (what the executor's REST client does)."""
    import http.client
    import socket

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(10)
            self.sock.connect(path)

    connection = UnixConnection("localhost")
    try:
        body = json.dumps({"data": {"ndarray": [[1.0]]}})
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        assert answer.status == 200
        return json.loads(answer.read())["jsonData"]
    finally:
        connection.close()


def test_bound_nodes_answer_on_unix_sockets_in_a_private_folder_removed_at_stop(make):
    components = make(_echo_bindings())
    predictor = components.start()
    sockets = [predictor.node(name).endpoint.unix_socket for name in ("first", "second")]
    assert all(sockets) and len(set(sockets)) == 2
    folder = os.path.dirname(sockets[0])
    assert os.path.dirname(sockets[1]) == folder
    assert os.stat(folder).st_mode & 0o777 == 0o700  # no other user reaches the nodes there
    # Each socket is its own node: the container environment tells them apart.
    assert [_predict_over_unix(path)["env"]["GRAPH_COLOUR"] for path in sockets] == ["red", "blue"]
    components.stop(grace_s=5.0)
    assert not os.path.exists(folder)


def test_a_temp_folder_too_deep_for_a_socket_path_leaves_nodes_on_tcp(make, monkeypatch, tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)  # a socket path over MAX_SOCKET_PATH characters
    deep.mkdir(parents=True)
    monkeypatch.setattr("tempfile.tempdir", str(deep))
    components = make(_echo_bindings())
    predictor = components.start()
    first = predictor.node("first").endpoint
    assert first.unix_socket is None
    assert _predict(first)["env"]["GRAPH_COLOUR"] == "red"
