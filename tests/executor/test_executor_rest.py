"""``seldon-core-executor`` over Seldon REST, for real: our microservices as graph nodes, the
executor as its own process, requests from ``requests`` (spec sections 2, 3, 5, 6, 8, 9)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
import time
import uuid

import pytest
import requests

from tests.conftest import free_port, module_server, start_server
from tests.executor.harness import RecordingNode, endpoint, post, run_executor, sdep, start_executor

transformer = module_server("E2eTransformer", env={"PREDICTIVE_UNIT_ID": "t"})
identity = module_server("IdentityModel", env={"PREDICTIVE_UNIT_ID": "m"})
router = module_server("E2eRouter", env={"PREDICTIVE_UNIT_ID": "r"})
combiner = module_server("E2eCombiner", env={"PREDICTIVE_UNIT_ID": "c"})
errors = module_server("E2eErrors")
sleeper = module_server("SleepModel")

ND = {"data": {"ndarray": [[1, 2]]}}


def ndarray(response: requests.Response) -> list:
    assert response.status_code == 200, response.text
    return response.json()["data"]["ndarray"]


@pytest.fixture(scope="module")
def chain(module_tmp, transformer, identity):
    """TRANSFORMER t -> MODEL m."""
    graph = {"name": "t", "type": "TRANSFORMER", "endpoint": endpoint(transformer),
             "children": [{"name": "m", "type": "MODEL", "endpoint": endpoint(identity)}]}  # fmt: skip
    server = start_executor(module_tmp, sdep(graph, annotations={"version": "v7"}))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def routed(module_tmp, router, identity, transformer):
    """ROUTER r over [m (identity), t (x2)]: the first feature chooses the child."""
    graph = {"name": "r", "type": "ROUTER", "endpoint": endpoint(router), "children": [
        {"name": "m", "type": "MODEL", "endpoint": endpoint(identity)},
        {"name": "t", "type": "TRANSFORMER", "endpoint": endpoint(transformer)}]}  # fmt: skip
    server = start_executor(module_tmp, sdep(graph))
    yield server
    server.stop()


# -- the walk -----------------------------------------------------------------------------


def test_a_chain_passes_each_answer_to_the_next_node(chain):
    response = post(chain, "/api/v1.0/predictions", ND)
    assert ndarray(response) == [[2, 4]]
    # Each Python node added itself to the meta it got: the path the request took.
    assert set(response.json()["meta"]["requestPath"]) == {"t", "m"}
    assert response.headers["Content-Type"] == "application/json"
    assert ndarray(post(chain, "/api/v0.1/predictions", ND)) == [[2, 4]]


def test_output_transformer_runs_after_its_child(tmp_path, transformer, identity):
    graph = {"name": "t", "type": "OUTPUT_TRANSFORMER", "endpoint": endpoint(transformer),
             "children": [{"name": "m", "endpoint": endpoint(identity)}]}  # fmt: skip
    server = start_executor(tmp_path, sdep(graph))
    try:
        assert ndarray(post(server, "/api/v1.0/predictions", ND)) == [[3, 6]]  # x3 on the way out
    finally:
        server.stop()


@pytest.mark.parametrize("first, expected", [(0, [[0, 2]]), (1, [[2, 4]])])
def test_a_router_sends_the_request_to_the_child_it_names(routed, first, expected):
    assert ndarray(post(routed, "/api/v1.0/predictions", {"data": {"ndarray": [[first, 2]]}})) == expected


def test_route_minus_one_calls_every_child_and_child_zero_answers(routed):
    message = {"data": {"ndarray": [[1, 2]]}, "meta": {"tags": {"route_to": -1}}}
    assert ndarray(post(routed, "/api/v1.0/predictions", message)) == [[1, 2]]  # m's, not t's


def test_route_minus_two_answers_with_the_routers_input(routed):
    message = {"data": {"ndarray": [[1, 2]]}, "meta": {"tags": {"route_to": -2}}}
    response = post(routed, "/api/v1.0/predictions", message)
    assert response.status_code == 200
    assert response.json() == message  # no child was called: the request itself comes back


def test_a_route_outside_the_children_is_a_500_naming_router_and_index(routed):
    response = post(routed, "/api/v1.0/predictions", {"data": {"ndarray": [[5, 2]]}})
    assert response.status_code == 500
    info = response.json()["status"]["info"]
    assert "'r'" in info and "route 5" in info
    assert response.json()["status"]["status"] == "FAILURE"
    assert ndarray(post(routed, "/api/v1.0/predictions", ND)) == [[2, 4]]  # still serving


def test_a_combiner_gets_every_childs_answer(tmp_path, combiner, identity, transformer):
    graph = {"name": "c", "type": "COMBINER", "endpoint": endpoint(combiner), "children": [
        {"name": "m", "endpoint": endpoint(identity)},
        {"name": "t", "type": "TRANSFORMER", "endpoint": endpoint(transformer)}]}  # fmt: skip
    server = start_executor(tmp_path, sdep(graph))
    try:
        response = post(server, "/api/v1.0/predictions", ND)
        assert ndarray(response) == [[3, 6]]  # [1,2] + [2,4]
        assert response.json()["meta"]["tags"]["mytag"] == 1  # the combiner's own tags
    finally:
        server.stop()


@pytest.mark.parametrize("ratio, expected", [("1.0", [[1, 2]]), ("0", [[2, 4]])])
def test_random_abtest_follows_ratio_a(tmp_path, identity, transformer, ratio, expected):
    graph = {"name": "ab", "implementation": "RANDOM_ABTEST",
             "parameters": [{"name": "ratioA", "value": ratio, "type": "FLOAT"}], "children": [
                 {"name": "m", "endpoint": endpoint(identity)},
                 {"name": "t", "type": "TRANSFORMER", "endpoint": endpoint(transformer)}]}  # fmt: skip
    server = start_executor(tmp_path, sdep(graph))
    try:
        for _ in range(5):
            assert ndarray(post(server, "/api/v1.0/predictions", ND)) == expected
    finally:
        server.stop()


def test_feedback_follows_the_routing_and_reaches_the_router(tmp_path, identity):
    record = tmp_path / "feedback.json"
    params = json.dumps([{"name": "record_path", "value": str(record), "type": "STRING"}])
    feedback_router = start_server(
        "E2eFeedback",
        env={"PREDICTIVE_UNIT_PARAMETERS": params, "PREDICTIVE_UNIT_ID": "fb"},
        tmp_path=tmp_path,
    )
    child = RecordingNode()
    child.body = b"{}"
    children = [{"name": "m", "endpoint": endpoint(identity)}, {"name": "rec", "endpoint": endpoint(child)}]
    graph = {"name": "fb", "type": "ROUTER", "endpoint": endpoint(feedback_router), "children": children}
    server = start_executor(tmp_path, sdep(graph))
    try:
        feedback = {"request": ND, "response": {"meta": {"routing": {"fb": 1}}}, "reward": 2}
        response = post(server, "/api/v1.0/feedback", feedback)
        assert ndarray(response) == [[1, 2]]  # the router's answer (reward 2)
        assert json.loads(record.read_text())["routing"] == 1
        assert [(method, path) for method, path, _, _ in child.seen] == [("POST", "/send-feedback")]
    finally:
        server.stop()
        feedback_router.stop()
        child.close()


def test_routing_injection_adds_meta_routing(tmp_path, router, identity, transformer):
    graph = {"name": "r", "type": "ROUTER", "endpoint": endpoint(router), "children": [
        {"name": "m", "endpoint": endpoint(identity)},
        {"name": "t", "type": "TRANSFORMER", "endpoint": endpoint(transformer)}]}  # fmt: skip
    server = start_executor(tmp_path, sdep(graph), env={"SELDON_ENABLE_ROUTING_INJECTION": "true"})
    try:
        response = post(server, "/api/v1.0/predictions", {"data": {"ndarray": [[1, 2]]}, "meta": {}})
        assert response.json()["meta"]["routing"] == {"r": 1, "t": -1}
    finally:
        server.stop()


# -- headers, routes, errors ---------------------------------------------------------------


def test_puid_is_made_when_absent_echoed_and_forwarded(tmp_path):
    node = RecordingNode()
    server = start_executor(tmp_path, sdep({"name": "rec", "endpoint": endpoint(node)}))
    try:
        made = post(server, "/api/v1.0/predictions", ND)
        assert made.status_code == 200 and made.json() == ND
        puid = made.headers["Seldon-Puid"]
        assert str(uuid.UUID(puid)) == puid
        given = post(server, "/api/v1.0/predictions", ND, headers={"Seldon-Puid": "abc", "X-Trace": "1",
                                                                  "Authorization": "Bearer t"})  # fmt: skip
        assert given.headers["Seldon-Puid"] == "abc"
        method, path, headers, body = node.seen[-1]
        assert (method, path, body) == ("POST", "/predict", json.dumps(ND).encode())
        assert headers["Seldon-Puid"] == "abc" and headers["X-Trace"] == "1"
        assert headers["Authorization"] == "Bearer t" and headers["Content-Type"] == "application/json"
        assert node.seen[0][2]["Seldon-Puid"] == puid
    finally:
        server.stop()
        node.close()


def test_bodies_pass_byte_for_byte_and_answers_are_html_escaped(tmp_path):
    node = RecordingNode()
    server = start_executor(tmp_path, sdep({"name": "rec", "endpoint": endpoint(node)}))
    try:
        raw = b'{ "strData" : "<b>&</b>",  "z": 1 }'
        response = post(server, "/api/v1.0/predictions", raw)
        assert node.seen[-1][3] == raw
        assert response.content == raw.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(
            b"&", b"\\u0026"
        )
    finally:
        server.stop()
        node.close()


def test_cloudevents_nosniff_and_cors_headers(chain):
    response = post(
        chain, "/api/v1.0/predictions", ND, headers={"Ce-Specversion": "1.0", "Seldon-Puid": "p1"}
    )
    assert response.headers["Ce-Id"] == "p1" and response.headers["Ce-Specversion"] == "0.3"
    assert response.headers["Ce-Path"] == "/api/v1.0/predictions"
    assert response.headers["Ce-Type"] == "seldon.demo.ns.response"
    assert response.headers["Ce-Source"] == "seldon.demo"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Ce-Id" not in post(chain, "/api/v1.0/predictions", ND).headers


def test_options_is_a_preflight_that_calls_no_node(chain):
    response = requests.options(chain.url + "/api/v1.0/predictions", timeout=5)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS,POST"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_unknown_paths_are_404_and_wrong_methods_405(chain):
    missing = requests.post(chain.url + "/predict", json=ND, timeout=5)
    assert (missing.status_code, missing.text) == (404, "404 page not found\n")
    assert "Seldon-Puid" not in missing.headers
    assert requests.get(chain.url + "/api/v1.0/metadata/", timeout=5).status_code == 404
    wrong = requests.get(chain.url + "/api/v1.0/predictions", timeout=5)
    assert (wrong.status_code, wrong.content) == (405, b"")
    assert requests.post(chain.url + "/api/v1.0/metadata", timeout=5).status_code == 405


def test_a_node_error_passes_through_with_its_status_and_body(tmp_path, errors):
    server = start_executor(tmp_path, sdep({"name": "e", "endpoint": endpoint(errors)}))
    try:
        response = post(server, "/api/v1.0/predictions", {"strData": "seldon"})
        assert response.status_code == 403
        assert response.json()["status"]["reason"] == "X"
        assert post(server, "/api/v1.0/predictions", {"strData": "value"}).status_code == 500
        bad = post(server, "/api/v1.0/predictions", b"{not json")  # the node's 400, passed on
        assert bad.status_code == 400 and bad.json()["status"]["reason"] == "MICROSERVICE_BAD_DATA"
    finally:
        server.stop()


def test_a_node_that_is_down_is_a_500_and_the_executor_keeps_serving(tmp_path, identity):
    down = {"service_host": "127.0.0.1", "httpPort": free_port(), "grpcPort": free_port()}
    graph = {"name": "r", "implementation": "RANDOM_ABTEST",
             "parameters": [{"name": "ratioA", "value": "0.5", "type": "FLOAT"}],
             "children": [{"name": "m", "endpoint": endpoint(identity)},
                          {"name": "gone", "endpoint": down}]}  # fmt: skip
    server = start_executor(tmp_path, sdep(graph))
    try:
        answers = {post(server, "/api/v1.0/predictions", ND).status_code for _ in range(20)}
        assert answers == {200, 500}
        response = next(r for r in iter(lambda: post(server, "/api/v1.0/predictions", ND), None)
                        if r.status_code == 500)  # fmt: skip
        status = response.json()["status"]
        assert status["code"] == 500 and status["status"] == "FAILURE"
        assert "/predict" in status["info"] and "connection refused" in status["info"]
        assert requests.get(server.url + "/ready", timeout=5).status_code == 503
    finally:
        server.stop()


def test_a_slow_node_hits_the_node_call_timeout(tmp_path, sleeper):
    server = start_executor(
        tmp_path, sdep({"name": "s", "endpoint": endpoint(sleeper)}), "--rest_timeout_ms", "300"
    )
    try:
        started = time.monotonic()
        response = post(server, "/api/v1.0/predictions", {"data": {"ndarray": [2]}})
        assert time.monotonic() - started < 1.8
        assert response.status_code == 500
        assert "Client.Timeout exceeded" in response.json()["status"]["info"]
        time.sleep(2)  # the node is still sleeping on the first request
        assert post(server, "/api/v1.0/predictions", {"data": {"ndarray": [0]}}).status_code == 200
    finally:
        server.stop()


def test_a_node_that_dies_mid_request_is_a_500_not_a_hang(tmp_path):
    node = start_server("SleepModel", tmp_path=tmp_path)
    server = start_executor(tmp_path, sdep({"name": "s", "endpoint": endpoint(node)}))
    try:
        threading.Timer(0.5, lambda: os.killpg(node.process.pid, signal.SIGKILL)).start()
        response = post(server, "/api/v1.0/predictions", {"data": {"ndarray": [3]}})
        assert response.status_code == 500
        assert response.json()["status"]["status"] == "FAILURE"
        assert requests.get(server.url + "/live", timeout=5).status_code == 200
    finally:
        server.stop()
        node.stop()


def test_a_body_or_headers_over_the_limit_are_413_or_431_and_the_executor_keeps_serving(tmp_path, identity):
    server = start_executor(tmp_path, sdep({"name": "m", "endpoint": endpoint(identity)}),
                            "--max_request_size", "100", "--rest_max_header_bytes", "2048")  # fmt: skip
    try:
        response = post(server, "/api/v1.0/predictions", {"data": {"ndarray": list(range(100))}})
        assert response.status_code == 413
        assert "limit of 100 bytes" in response.json()["status"]["info"]
        assert ndarray(post(server, "/api/v1.0/predictions", ND)) == [[1, 2]]
        response = post(server, "/api/v1.0/predictions", ND, headers={"X-Big": "b" * 3000})
        assert response.status_code == 431 and "2048 bytes" in response.json()["status"]["info"]
        assert ndarray(post(server, "/api/v1.0/predictions", ND, headers={"X-Fits": "f" * 1500})) == [[1, 2]]
    finally:
        server.stop()


def test_stalled_clients_hold_up_no_request_and_get_408_at_the_read_deadline(tmp_path, identity):
    """A hundred clients that send half a request and stop: each holds only its socket, so a
    normal request is answered at once; each stalled one gets the Seldon error body with 408 at
    SELDON_EXECUTOR_REST_READ_TIMEOUT_MS."""
    server = start_executor(tmp_path, sdep({"name": "m", "endpoint": endpoint(identity)}),
                            env={"SELDON_EXECUTOR_REST_READ_TIMEOUT_MS": "1500"})  # fmt: skip
    stalled = []
    try:
        for _ in range(100):
            sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=10)
            sock.sendall(b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
            stalled.append(sock)
        started = time.monotonic()
        assert ndarray(post(server, "/api/v1.0/predictions", ND, timeout=5)) == [[1, 2]]
        assert time.monotonic() - started < 1
        answer = b""
        while b"}}" not in answer:
            chunk = stalled[0].recv(4096)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408 ")
        status = json.loads(answer.partition(b"\r\n\r\n")[2])["status"]
        assert status["code"] == 408 and "1.5 s" in status["info"] and status["status"] == "FAILURE"
        assert time.monotonic() - started < 5
        assert ndarray(post(server, "/api/v1.0/predictions", ND)) == [[1, 2]]
    finally:
        for sock in stalled:
            sock.close()
        server.stop()


# -- metadata, status, readiness, metrics --------------------------------------------------


def test_graph_metadata_lists_every_node_and_the_graphs_edges(chain):
    response = requests.get(chain.url + "/api/v1.0/metadata", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert list(response.json()) == ["name", "models", "graphinputs", "graphoutputs"]
    assert response.json()["name"] == "default"
    assert sorted(response.json()["models"]) == ["m", "t"]


def test_node_metadata_and_status_are_the_nodes_answers(chain, identity):
    own = requests.get(identity.url + "/metadata", timeout=5).json()
    assert requests.get(chain.url + "/api/v1.0/metadata/m", timeout=5).json() == own
    status = requests.get(chain.url + "/api/v0.1/status/m", timeout=5)
    assert status.status_code == 200
    assert status.json() == requests.get(identity.url + "/health/status", timeout=5).json()
    unknown = requests.get(chain.url + "/api/v1.0/metadata/nobody", timeout=5)
    assert unknown.status_code == 404 and unknown.json()["status"]["info"] == "Failed to find model nobody"


def test_ready_and_live(chain):
    for path in ("/ready", "/api/v1.0/status", "/api/v1.0/health/status", "/live"):
        response = requests.get(chain.url + path, timeout=5)
        assert (response.status_code, response.content) == (200, b""), path


def test_server_and_client_metrics_have_the_originals_names_and_labels(chain):
    post(chain, "/api/v1.0/predictions", ND)
    text = requests.get(chain.url + "/metrics", timeout=5).text
    server = re.search(r"seldon_api_executor_server_requests_seconds_count\{([^}]*)\} (\S+)", text)
    labels = dict(re.findall(r'(\w+)="([^"]*)"', server.group(1)))
    assert labels == {"code": "200", "deployment_name": "demo", "method": "post", "predictor_name": "default",
                      "predictor_version": "v7", "service": "predictions"}  # fmt: skip
    assert 'le="0.005"' in text and 'le="7.5"' in text
    client = re.findall(r"seldon_api_executor_client_requests_seconds_count\{([^}]*)\}", text)
    services = {dict(re.findall(r'(\w+)="([^"]*)"', item))["service"] for item in client}
    assert {"/transform-input", "/predict"} <= services
    assert "seldon_api_executor_server_requests_seconds_summary_count" in text


# -- start-up -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "deployment, args, message",
    [
        (sdep({"name": "m", "endpoint": {"httpPort": 9}}), ["--predictor", "other"], "Predictor not found"),
        (sdep({"name": "m", "type": "MODLE", "endpoint": {"httpPort": 9}}), [], "unknown type 'MODLE'"),
        (sdep({"name": "m"}), [], "node 'm' has no way to reach it"),
        ("kind: [unclosed", [], "is not valid YAML"),
        (sdep({"name": "m", "endpoint": {"httpPort": 9}}, protocol="tensorflow"), [], "protocol tensorflow"),
    ],
)
def test_a_bad_graph_stops_the_start_with_one_line(tmp_path, deployment, args, message):
    code, output = run_executor(tmp_path, deployment, *args)
    assert code != 0
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], output
    assert "Traceback" not in output


def test_sigterm_lets_a_request_in_flight_finish(tmp_path, sleeper):
    server = start_executor(tmp_path, sdep({"name": "s", "endpoint": endpoint(sleeper)}))
    result = {}

    def call() -> None:
        result["response"] = post(server, "/api/v1.0/predictions", {"data": {"ndarray": [1.5]}})

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    caller.join(10)
    assert result["response"].status_code == 200
    assert server.process.wait(timeout=20) == 0


def test_parallel_children_that_fail_answer_with_the_lowest_failing_index(tmp_path, errors, combiner):
    down = {"service_host": "127.0.0.1", "httpPort": free_port(), "grpcPort": free_port()}
    slow_failure = RecordingNode()  # child 2 fails too, later, with its own status
    slow_failure.status, slow_failure.body, slow_failure.delay = 409, b'{"status":"failed"}', 0.3
    children = [{"name": "e", "endpoint": endpoint(errors)}, {"name": "gone", "endpoint": down},
                {"name": "late", "endpoint": endpoint(slow_failure)}]  # fmt: skip
    graph = {"name": "c", "type": "COMBINER", "endpoint": endpoint(combiner), "children": children}
    server = start_executor(tmp_path, sdep(graph))
    try:
        response = post(server, "/api/v1.0/predictions", {"strData": "seldon"})
        assert response.status_code == 403  # child 0's own error, though 1 and 2 failed too
        assert response.json()["status"]["reason"] == "X"
        assert len(slow_failure.seen) == 1  # every child was called
        response = post(server, "/api/v1.0/predictions", {"strData": "ok"})
        assert response.status_code == 500 and "connection refused" in response.json()["status"]["info"]
    finally:
        server.stop()
        slow_failure.close()


def test_several_event_loop_workers_serve_the_graph_and_drain_on_sigterm(tmp_path, transformer, sleeper):
    """``--rest_workers 2``: two event-loop processes; ``--rest_threads`` is still accepted."""
    graph = {"name": "t", "type": "TRANSFORMER", "endpoint": endpoint(transformer),
             "children": [{"name": "s", "endpoint": endpoint(sleeper)}]}  # fmt: skip
    server = start_executor(tmp_path, sdep(graph), "--rest_workers", "2", "--rest_threads", "1")
    try:
        with requests.Session() as session:  # one kept-alive connection for every call
            for _ in range(3):
                response = session.post(server.url + "/api/v1.0/predictions", json={"data": {"ndarray": [0]}})
                assert ndarray(response) == [0]
                assert response.headers.get("Connection", "keep-alive").lower() == "keep-alive"
        deadline = time.monotonic() + 10
        while server.log().count("Booting worker") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # the second worker may log its boot after the first answered
        assert server.log().count("Booting worker") == 2
        result = {}
        caller = threading.Thread(
            target=lambda: result.update(
                r=post(server, "/api/v1.0/predictions", {"data": {"ndarray": [0.5]}})
            )
        )
        caller.start()
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        caller.join(10)
        assert ndarray(result["r"]) == [1.0]  # doubled by t, then slept on by s
        assert server.process.wait(timeout=20) == 0
    finally:
        server.stop()
