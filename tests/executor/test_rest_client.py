"""executor/rest_client.py against real servers: our microservices as graph nodes, and a small
recording HTTP server for what the executor sends (headers, connections) and for failures."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest

from seldon_wrapper.executor import graph
from seldon_wrapper.executor.rest_client import RestNodeClient
from seldon_wrapper.executor.seldon_rest import Body, SeldonRestPayloads
from seldon_wrapper.executor.walk import Request, Walk, WalkError
from tests.conftest import free_port, module_server
from tests.executor.harness import OnLoop

router = module_server("E2eRouter")
combiner = module_server("E2eCombiner")
transformer = module_server("E2eTransformer")
identity = module_server("IdentityModel")


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every POST with ``server.answer`` (status, body, delay) and records the request."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.seen.append((self.path, dict(self.headers), body, self.client_address[1]))
        status, answer, delay = self.server.answer
        time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen, server.answer = [], (200, b'{"ok":1}', 0.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def node(name: str, port: int, node_type: str = "MODEL", children: list | None = None) -> dict:
    spec = {"name": name, "type": node_type, "endpoint": {"service_host": "127.0.0.1", "httpPort": port}}
    if children:
        spec["children"] = children
    return spec


def graph_of(spec: dict) -> graph.Node:
    return graph.predictor_from_spec({"name": "p", "graph": spec}).graph


def test_a_graph_of_real_microservices_answers_as_the_original_walk(router, combiner, transformer, identity):
    spec = node("r", router.http_port, "ROUTER", [
        node("alone", identity.http_port),
        node("c", combiner.http_port, "COMBINER", [
            node("t", transformer.http_port, "TRANSFORMER"),
            node("i", identity.http_port),
        ]),
    ])  # fmt: skip
    client = RestNodeClient(timeout_s=10)
    walk = OnLoop(Walk(client, SeldonRestPayloads(), inject_routing=True))
    request = Request(context=[("Seldon-Puid", "p-1")])
    body = Body(b'{"data":{"ndarray":[[1,5]]}}', "application/json")
    answer = json.loads(walk.predict(graph_of(spec), body, request).data)
    assert answer["data"]["ndarray"] == [[3, 15]]  # route 1: (x2) + (x1), summed by the combiner
    assert answer["meta"]["tags"]["mytag"] == 1  # the combiner's own tags()
    assert answer["meta"]["routing"] == {"r": 1, "c": -1, "t": -1, "i": -1}
    walk.close()


def test_the_clients_headers_go_to_every_node_on_kept_alive_connections(recorder):
    client = OnLoop(RestNodeClient(timeout_s=5))
    target = graph_of(node("m", recorder.server_port))
    headers = [("Seldon-Puid", "abc"), ("Authorization", "Bearer t"), ("X-Custom", "1"),
               ("Content-Type", "text/evil"), ("Host", "elsewhere"), ("Content-Length", "999")]  # fmt: skip
    for _ in range(5):
        answer = client(target, "predict", Body(b'{"a":1}', "application/json"), headers)
        assert answer.data == b'{"ok":1}' and answer.content_type == "application/json"
    path, sent, body, _ = recorder.seen[0]
    assert (path, body) == ("/predict", b'{"a":1}')
    assert sent["Seldon-Puid"] == "abc" and sent["Authorization"] == "Bearer t" and sent["X-Custom"] == "1"
    assert sent["Content-Type"] == "application/json" and sent["Host"] != "elsewhere"
    assert len({port for *_, port in recorder.seen}) == 1  # one connection for all five calls
    client.close()


def test_a_nodes_error_answer_passes_through_with_its_status(recorder):
    recorder.answer = (409, b'{"status": "failed"}', 0.0)
    client = OnLoop(RestNodeClient(timeout_s=5))
    with pytest.raises(WalkError) as info:
        client(graph_of(node("m", recorder.server_port)), "predict", Body(b"{}"), [])
    assert info.value.status == 409 and info.value.payload.data == b'{"status": "failed"}'
    with pytest.raises(WalkError) as info:
        client(graph_of(node("r", recorder.server_port, "ROUTER")), "route", Body(b"{}"), [])
    assert info.value.status == 409 and info.value.payload is None
    assert "Internal service call from executor failed calling" in info.value.message
    assert info.value.message.endswith("/route status code 409")


def test_a_refused_connection_is_a_500_naming_the_call():
    port = free_port()
    with pytest.raises(WalkError) as info:
        OnLoop(RestNodeClient(timeout_s=5))(graph_of(node("m", port)), "predict", Body(b"{}"), [])
    assert info.value.status == 500 and info.value.payload is None
    assert info.value.message.startswith(
        f'Post "http://127.0.0.1:{port}/predict": connect: connection refused'
    )


def test_a_slow_node_hits_the_timeout(recorder):
    recorder.answer = (200, b"{}", 1.0)
    started = time.monotonic()
    with pytest.raises(WalkError, match="Client.Timeout exceeded") as info:
        client = OnLoop(RestNodeClient(timeout_s=0.2))
        client(graph_of(node("m", recorder.server_port)), "predict", Body(b"{}"), [])
    assert info.value.status == 500 and time.monotonic() - started < 0.9


def test_status_and_metadata_calls_are_gets_to_the_wrappers_paths(identity):
    client = OnLoop(RestNodeClient(timeout_s=5))
    target = graph_of(node("i", identity.http_port))
    status = json.loads(client(target, "status", None, []).data)
    assert "healthy" in json.dumps(status)
    metadata = json.loads(client(target, "metadata", None, []).data)
    assert set(metadata) == {"custom", "inputs", "name", "outputs", "platform", "versions"}
    client.close()
