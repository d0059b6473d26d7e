"""``seldon-core-executor --component``: local classes as graph nodes, through the real command:
each node gets its container's env, a component that dies is restarted, SIGTERM leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import time

import requests

from tests.conftest import MODELS_DIR
from tests.executor.harness import RecordingNode, endpoint, post, sdep, start_executor


def _processes_in_group(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry))
    return found


def test_bound_nodes_get_their_containers_env_and_a_remote_node_mixes_in(tmp_path):
    remote = RecordingNode()  # an unbound COMBINER, reached at its endpoint
    children = [{"name": "first", "type": "MODEL"}, {"name": "second", "type": "MODEL"}]
    graph = {"name": "remote", "type": "COMBINER", "endpoint": endpoint(remote), "children": children}

    def container(name: str, image: str, colour: str) -> dict:
        return {"name": name, "image": image, "env": [{"name": "GRAPH_COLOUR", "value": colour}]}

    containers = [container("first", "echo:1", "red"), container("second", "echo:2", "blue")]
    deployment = sdep(graph, componentSpecs=[{"spec": {"containers": containers}}])
    folder = f"{MODELS_DIR}:GraphEnvEcho"  # one class backs both nodes
    server = start_executor(tmp_path, deployment, "--component", f"first={folder}",
                            "--component", f"second={folder}", ready_path="/ready")  # fmt: skip
    try:
        response = post(server, "/api/v1.0/predictions", {"data": {"ndarray": [[1]]}})
        assert response.status_code == 200, response.text
        method, path, _, body = remote.seen[-1]
        assert (method, path) == ("POST", "/aggregate")
        first, second = (message["jsonData"]["env"] for message in json.loads(body))
        assert (first["GRAPH_COLOUR"], first["PREDICTIVE_UNIT_ID"], first["PREDICTIVE_UNIT_IMAGE"]) == (
            "red", "first", "echo:1")  # fmt: skip
        assert (second["GRAPH_COLOUR"], second["PREDICTIVE_UNIT_ID"], second["PREDICTIVE_UNIT_IMAGE"]) == (
            "blue", "second", "echo:2")  # fmt: skip
        assert first["SELDON_DEPLOYMENT_ID"] == "demo" and first["PREDICTOR_ID"] == "default"
    finally:
        server.stop()
        remote.close()


def test_a_component_that_dies_is_restarted_and_sigterm_leaves_no_process(tmp_path):
    graph = {"name": "m", "type": "MODEL"}
    deployment = sdep(graph)
    server = start_executor(tmp_path, deployment, "--component", f"m={MODELS_DIR}:IdentityModel",
                            ready_path="/ready")  # fmt: skip
    try:
        assert post(server, "/api/v1.0/predictions", {"data": {"ndarray": [1]}}).status_code == 200
        pgid = os.getpgid(server.process.pid)
        (group,) = _component_groups()  # each component runs in its own process group
        socket_path = _component_socket()  # the executor calls it on a Unix socket of its own
        assert (
            os.path.exists(socket_path) and oct(os.stat(os.path.dirname(socket_path)).st_mode)[-3:] == "700"
        )
        os.killpg(group, signal.SIGKILL)
        deadline = time.monotonic() + 30
        answered = False
        while time.monotonic() < deadline and not answered:
            time.sleep(0.3)
            try:
                answered = (
                    post(server, "/api/v1.0/predictions", {"data": {"ndarray": [1]}}).status_code == 200
                )
            except requests.RequestException:
                pass
        assert answered, server.log()
        assert "restart" in server.log().lower()
        (restarted,) = _component_groups() - {group}  # a new process, in a new group
        groups = {group, restarted}
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_processes_in_group(group) for group in groups | {pgid}):
            time.sleep(0.1)
        assert not any(_processes_in_group(group) for group in groups | {pgid})
        assert not os.path.exists(os.path.dirname(socket_path))  # its directory is removed
    finally:
        server.stop()


def _component_socket() -> str:
    """The --http-socket the running IdentityModel component was given."""
    for entry in os.listdir("/proc"):
        words = _cmdline(int(entry)).split() if entry.isdigit() else []
        if "IdentityModel" in words and "--http-socket" in words:
            return words[words.index("--http-socket") + 1]
    raise AssertionError("no component with --http-socket")


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _component_groups() -> set[int]:
    """Process groups of the running IdentityModel components (started by the executor)."""
    groups = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and "seldon_wrapper.cli IdentityModel" in _cmdline(int(entry)):
            try:
                groups.add(os.getpgid(int(entry)))
            except OSError:
                pass
    return groups


def test_components_stop_when_the_executor_is_killed(tmp_path):
    server = start_executor(tmp_path, sdep({"name": "m", "type": "MODEL"}),
                            "--component", f"m={MODELS_DIR}:IdentityModel", ready_path="/ready")  # fmt: skip
    try:
        (group,) = _component_groups()
        server.process.send_signal(signal.SIGKILL)  # no chance to stop anything itself
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _processes_in_group(group):
            time.sleep(0.1)
        assert not _processes_in_group(group)
    finally:
        server.stop()
