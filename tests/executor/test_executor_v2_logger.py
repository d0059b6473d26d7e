"""``seldon-core-executor`` over V2 REST (each hop's outputs become the next hop's inputs) and its
payload logger (CloudEvents to a real sink), for real (spec 3.3, 3.5, 7)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.conftest import module_server
from tests.executor.harness import RecordingNode, endpoint, post, sdep, start_executor

affine = module_server("V2Affine", env={"PREDICTIVE_UNIT_ID": "first"})
double = module_server("V2Double", env={"PREDICTIVE_UNIT_ID": "second"})
identity = module_server("IdentityModel", env={"PREDICTIVE_UNIT_ID": "m"})

V2_REQUEST = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [2], "data": [1.0, 2.0]}]}


@pytest.fixture(scope="module")
def v2_chain(module_tmp, affine, double):
    graph = {"name": "first", "endpoint": endpoint(affine),
             "children": [{"name": "second", "endpoint": endpoint(double)}]}  # fmt: skip
    server = start_executor(module_tmp, sdep(graph, protocol="v2"), "--protocol", "v2")
    yield server
    server.stop()


def test_v2_outputs_of_one_hop_are_the_inputs_of_the_next(v2_chain):
    response = post(v2_chain, "/v2/models/infer", V2_REQUEST)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_name"] == "second"  # the last node answered
    assert body["outputs"][0]["data"] == [6.0, 10.0]  # (x * 2 + 1) * 2


def test_v2_model_in_the_path_names_every_node_call(v2_chain):
    # The original called every node by the path's model name: "first" exists only on one node.
    response = post(v2_chain, "/v2/models/first/infer", V2_REQUEST)
    assert response.status_code == 404  # the second node's own answer, passed through
    assert "Model first not found" in response.text


def test_v2_readiness_metadata_and_seldon_routes_absent(v2_chain, double):
    assert requests.get(v2_chain.url + "/v2/health/ready", timeout=5).status_code == 200
    assert requests.get(v2_chain.url + "/v2/health/live", timeout=5).status_code == 200
    assert requests.get(v2_chain.url + "/v2/models/second/ready", timeout=5).status_code == 200
    metadata = requests.get(v2_chain.url + "/v2/models/second", timeout=5)
    assert metadata.json() == requests.get(double.url + "/v2/models/second", timeout=5).json()
    assert post(v2_chain, "/api/v1.0/predictions", {"data": {"ndarray": [1]}}).status_code == 404


def test_a_v2_answer_that_cannot_be_chained_is_a_clear_500(tmp_path, double):
    node = RecordingNode()
    node.body = b'{"something": 1}'
    graph = {
        "name": "rec",
        "endpoint": endpoint(node),
        "children": [{"name": "second", "endpoint": endpoint(double)}],
    }
    server = start_executor(tmp_path, sdep(graph, protocol="v2"), "--protocol", "v2")
    try:
        response = post(server, "/v2/models/infer", V2_REQUEST)
        assert response.status_code == 500
        assert "could be chained to new input" in response.json()["error"]  # V2's error body
    finally:
        server.stop()
        node.close()


def wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.05)


@pytest.mark.parametrize("mode, kinds", [("all", ["request", "response"]), ("request", ["request"])])
def test_the_payload_logger_sends_cloudevents_for_a_nodes_input_and_answer(tmp_path, identity, mode, kinds):
    sink = RecordingNode()
    graph = {
        "name": "m",
        "endpoint": endpoint(identity),
        "logger": {"mode": mode, "url": f"http://127.0.0.1:{sink.http_port}/log"},
    }
    server = start_executor(tmp_path, sdep(graph))
    try:
        body = {"data": {"ndarray": [[1, 2]]}}
        response = post(server, "/api/v1.0/predictions", body, headers={"Seldon-Puid": "puid-1"})
        assert response.status_code == 200
        wait_for(lambda: len(sink.seen) >= len(kinds))
        time.sleep(0.2)
        assert [headers["Ce-Type"].rsplit(".", 1)[1] for _, _, headers, _ in sink.seen] == kinds
        method, path, headers, data = sink.seen[0]
        assert (method, path) == ("POST", "/log")
        assert headers["Ce-Specversion"] == "1.0" and headers["Ce-Requestid"] == "puid-1"
        assert headers["Ce-Modelid"] == "m" and headers["Ce-Inferenceservicename"] == "demo"
        assert headers["Ce-Namespace"] == "ns" and headers["Ce-Endpoint"] == "default"
        assert headers["Ce-Protocol"] == "seldon" and headers["Content-Type"] == "application/json"
        assert data == b'{"data": {"ndarray": [[1, 2]]}}'
        if mode == "all":
            assert sink.seen[1][3] == response.content

        before = len(sink.seen)
        post(server, "/api/v1.0/predictions", body, headers={"Seldon-Skip-Logging": "true"})
        time.sleep(0.5)
        assert len(sink.seen) == before  # the client asked not to be logged
    finally:
        server.stop()
        sink.close()


def test_a_logger_sink_that_is_down_neither_fails_nor_delays_requests(tmp_path, identity):
    graph = {
        "name": "m",
        "endpoint": endpoint(identity),
        "logger": {"mode": "all", "url": "http://127.0.0.1:9/x"},
    }
    server = start_executor(tmp_path, sdep(graph))
    try:
        started = time.monotonic()
        for _ in range(5):
            assert post(server, "/api/v1.0/predictions", {"data": {"ndarray": [1]}}).status_code == 200
        assert time.monotonic() - started < 3
    finally:
        server.stop()


def test_no_logger_no_events(tmp_path, identity):
    sink = RecordingNode()
    graph = {"name": "m", "endpoint": endpoint(identity)}
    server = start_executor(
        tmp_path, sdep(graph), env={"REQUEST_LOGGER_DEFAULT_ENDPOINT": f"http://127.0.0.1:{sink.http_port}/"}
    )
    try:
        assert post(server, "/api/v1.0/predictions", {"data": {"ndarray": [1]}}).status_code == 200
        time.sleep(0.5)
        assert sink.seen == []
    finally:
        server.stop()
        sink.close()


def test_events_the_logger_cannot_queue_are_dropped_and_counted(tmp_path, identity):
    sink = RecordingNode()
    sink.delay = 1.0  # a slow sink: the one sender is busy, the queue of one fills up
    url = f"http://127.0.0.1:{sink.http_port}/"
    graph = {"name": "m", "endpoint": endpoint(identity), "logger": {"mode": "all", "url": url}}
    server = start_executor(tmp_path, sdep(graph), "--logger_workers", "1", "--log_work_buffer_size", "1",
                            "--log_write_timeout_ms", "10")  # fmt: skip
    try:
        started = time.monotonic()
        for _ in range(5):
            assert post(server, "/api/v1.0/predictions", {"data": {"ndarray": [1]}}).status_code == 200
        assert time.monotonic() - started < 2  # a full queue delays a request 10 ms at most
        scrape = requests.get(server.url + "/metrics", timeout=5).text
        dropped = [
            line
            for line in scrape.splitlines()
            if line.startswith("seldon_api_executor_logger_dropped_total")
        ]
        assert dropped and float(dropped[0].rsplit(" ", 1)[1]) >= 5, dropped
    finally:
        server.stop()
        sink.close()


def test_a_node_with_methods_and_no_type_is_called_for_each_method(tmp_path):
    """``methods: [TRANSFORM_INPUT, TRANSFORM_OUTPUT]`` on an untyped node: both calls, in order."""
    from tests.conftest import start_server

    transformer = start_server("E2eTransformer", tmp_path=tmp_path)
    graph = {
        "name": "t",
        "methods": ["TRANSFORM_INPUT", "TRANSFORM_OUTPUT"],
        "endpoint": endpoint(transformer),
    }
    server = start_executor(tmp_path, sdep(graph))
    try:
        response = post(server, "/api/v1.0/predictions", {"data": {"ndarray": [[1, 2]]}})
        assert response.json()["data"]["ndarray"] == [[6, 12]]  # x2 on the way in, x3 on the way out
    finally:
        server.stop()
        transformer.stop()


def test_without_protocol_flag_the_seldondeployments_protocol_applies(tmp_path, affine, double):
    graph = {"name": "first", "endpoint": endpoint(affine),
             "children": [{"name": "second", "endpoint": endpoint(double)}]}  # fmt: skip
    server = start_executor(tmp_path, sdep(graph, protocol="v2"))  # no --protocol: spec.protocol
    try:
        response = post(server, "/v2/models/infer", V2_REQUEST)
        assert response.status_code == 200 and response.json()["outputs"][0]["data"] == [6.0, 10.0]
    finally:
        server.stop()
    server = start_executor(tmp_path, sdep(graph, protocol="v2"), "--protocol", "seldon")  # the flag wins
    try:
        assert post(server, "/v2/models/infer", V2_REQUEST).status_code == 404
    finally:
        server.stop()
