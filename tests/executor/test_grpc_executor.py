"""The executor's gRPC front door (executor/grpc_server.py) end to end: our microservices as graph
nodes, the grpc.aio front door in-process on a free port (its event loop in a background thread,
as in the executor's gRPC process), called over a real channel; a small recording gRPC node (in
this process) shows what the executor sends and plays routers, failures and slow nodes."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from google.protobuf import empty_pb2, json_format

from seldon_wrapper.executor import graph
from seldon_wrapper.executor.grpc_server import build_server, make_walk
from seldon_wrapper.executor.metrics import ExecutorMetrics
from seldon_wrapper.executor.settings import ExecutorSettings
from seldon_wrapper.proto import grpc_predict_v2_pb2 as v2
from seldon_wrapper.proto import grpc_predict_v2_pb2_grpc as v2_grpc
from seldon_wrapper.proto import prediction_pb2 as pb
from seldon_wrapper.proto import prediction_pb2_grpc as pb_grpc
from tests.conftest import free_port, start_server
from tests.e2e.v2_helpers import wait_grpc_serving
from tests.executor.harness import sdep, start_executor

TIMEOUT = 10


def grpc_node(model: str, **kwargs: Any):
    """A module-scoped microservice whose gRPC port is serving."""

    @pytest.fixture(scope="module")
    def _fixture(module_tmp):
        server = start_server(model, tmp_path=module_tmp, **kwargs)
        try:
            wait_grpc_serving(server.grpc_port)
            yield server
        finally:
            server.stop()

    return _fixture


router = grpc_node("E2eRouter")
combiner = grpc_node("E2eCombiner")
transformer = grpc_node("E2eTransformer")
identity = grpc_node("IdentityModel")
errors = grpc_node("E2eErrors")
sleeper = grpc_node("SleepModel")
v2_transformer = grpc_node("V2Transformer", env={"PREDICTIVE_UNIT_ID": "t"})
v2_double = grpc_node("V2Double", env={"PREDICTIVE_UNIT_ID": "d"})


# -- a recording node ---------------------------------------------------------------------------


class Recording(grpc.GenericRpcHandler):
    """Answers any unary method with ``answers[path]`` (a message, or a (code, details) pair) and
    records (path, metadata, request bytes) of every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.answers: dict[str, Any] = {}
        self.delay = 0.0
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        path = details.method

        def handle(request: bytes, context: grpc.ServicerContext) -> bytes:
            self.calls.append((path, dict(context.invocation_metadata()), request))
            with self._lock:
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            time.sleep(self.delay)
            with self._lock:
                self.in_flight -= 1
            answer = self.answers.get(path, pb.SeldonMessage(strData="recorded"))
            if isinstance(answer, tuple):
                context.abort(*answer)
            return answer.SerializeToString()

        return grpc.unary_unary_rpc_method_handler(handle)


@pytest.fixture
def recording() -> Iterator[tuple[Recording, int]]:
    handler = Recording()
    server = grpc.server(_pool(32), handlers=(handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield handler, port
    server.stop(None)


def _pool(size: int):
    from concurrent import futures

    return futures.ThreadPoolExecutor(size)


# -- the executor under test --------------------------------------------------------------------


def node(name: str, port: int, node_type: str | None = "MODEL", children: list | None = None, **more) -> dict:
    spec: dict[str, Any] = {"name": name, "endpoint": {"service_host": "127.0.0.1", "grpcPort": port}, **more}
    if node_type:
        spec["type"] = node_type
    if children:
        spec["children"] = children
    return spec


class Loop:
    """An asyncio loop in a background thread: what the executor's gRPC process runs in its main
    thread. ``run`` runs a coroutine in it and waits for its result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="executor-loop", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(TIMEOUT)
        self.loop.close()


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


class Executor:
    """A running front door (in ``loop``): ``stub`` (Seldon or V2) on a channel to it, what it
    observed."""

    def __init__(self, loop: Loop, spec: dict, protocol: str, **options: Any) -> None:
        self.loop = loop
        self.client_metrics: list[tuple] = []
        self.server_metrics: list[tuple] = []
        self.predictor = graph.predictor_from_spec({"name": "p", "graph": spec})
        self.walk = make_walk(
            protocol,
            timeout_s=options.pop("timeout_s", TIMEOUT),
            observe=lambda *args: self.client_metrics.append(args),
            inject_routing=options.pop("inject_routing", False),
            log=options.pop("log", None),
        )
        self.server, self.port = loop.run(self._start(protocol, options))
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        if protocol == "seldon":
            self.stub: Any = pb_grpc.SeldonStub(self.channel)
        else:
            self.stub = v2_grpc.GRPCInferenceServiceStub(self.channel)

    async def _start(self, protocol: str, options: dict) -> tuple[grpc.aio.Server, int]:
        server = build_server(
            self.predictor,
            self.walk,
            protocol,
            observe_server=lambda *args: self.server_metrics.append(args),
            **options,
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    async def _stop(self) -> None:
        await self.server.stop(None)
        await self.walk.call.close()

    def stop(self) -> None:
        self.channel.close()
        self.loop.run(self._stop())


@pytest.fixture
def executor(loop: Loop) -> Iterator[Callable[..., Executor]]:
    started: list[Executor] = []

    def _start(spec: dict, protocol: str = "seldon", **options: Any) -> Executor:
        started.append(Executor(loop, spec, protocol, **options))
        return started[-1]

    yield _start
    for running in started:
        running.stop()


def ndarray(rows: list) -> pb.SeldonMessage:
    return json_format.ParseDict({"data": {"ndarray": rows}}, pb.SeldonMessage())


def rows(message: pb.SeldonMessage) -> list:
    return json_format.MessageToDict(message)["data"]["ndarray"]


def rpc_error(call: Callable, request: Any, **kwargs: Any) -> grpc.RpcError:
    try:
        call(request, timeout=TIMEOUT, **kwargs)
    except grpc.RpcError as error:
        return error
    raise AssertionError("the call succeeded")


# -- seldon protocol ----------------------------------------------------------------------------


def test_a_transformer_feeds_its_model(executor, transformer, identity):
    running = executor(node("t", transformer.grpc_port, "TRANSFORMER", [node("i", identity.grpc_port)]))
    answer = running.stub.Predict(ndarray([[1, 5]]), timeout=TIMEOUT)
    assert rows(answer) == [[2.0, 10.0]]
    services = [service for _, service, *_ in running.client_metrics]
    assert services == ["/seldon.protos.Transformer/TransformInput", "/seldon.protos.Model/Predict"]
    assert [(name, method, code) for name, _, method, code, _ in running.client_metrics] == [
        ("t", "unary", "OK"),
        ("i", "unary", "OK"),
    ]
    assert running.server_metrics[0][:3] == ("/seldon.protos.Seldon/Predict", "unary", "OK")


def test_a_router_picks_one_child_and_the_routing_is_injected(executor, router, identity, transformer):
    spec = node("r", router.grpc_port, "ROUTER", [
        node("a", identity.grpc_port),
        node("t", transformer.grpc_port, "TRANSFORMER"),
    ])  # fmt: skip
    running = executor(spec, inject_routing=True)
    answer = running.stub.Predict(ndarray([[1, 5]]), timeout=TIMEOUT)
    assert rows(answer) == [[2.0, 10.0]]  # route 1: the transformer (x2), not the identity
    assert dict(answer.meta.routing) == {"r": 1, "t": -1}
    answer = running.stub.Predict(ndarray([[0, 5]]), timeout=TIMEOUT)
    assert rows(answer) == [[0.0, 5.0]] and dict(answer.meta.routing) == {"r": 0, "a": -1}


def test_a_combiner_aggregates_both_children_in_order(executor, combiner, transformer, identity):
    spec = node("c", combiner.grpc_port, "COMBINER", [
        node("t", transformer.grpc_port, "TRANSFORMER"),
        node("i", identity.grpc_port),
    ])  # fmt: skip
    running = executor(spec)
    answer = running.stub.Predict(ndarray([[1, 5]]), timeout=TIMEOUT)
    assert rows(answer) == [[3.0, 15.0]]  # (x2) + (x1)
    assert json_format.MessageToDict(answer.meta)["tags"]["mytag"] == 1
    assert not answer.meta.routing  # no injection unless asked
    assert running.client_metrics[-1][:2] == ("c", "/seldon.protos.Combiner/Aggregate")


def test_feedback_reaches_the_routed_child_and_the_router(executor, recording, tmp_path):
    handler, port = recording
    handler.answers["/seldon.protos.Model/SendFeedback"] = pb.SeldonMessage(strData="router thanks")
    spec = node("r", port, "ROUTER", [node("a", port), node("b", port)])
    running = executor(spec)
    feedback = pb.Feedback(request=ndarray([[1]]), reward=2.0)
    feedback.response.meta.routing["r"] = 1
    answer, call = running.stub.SendFeedback.with_call(feedback, timeout=TIMEOUT)
    assert answer.strData == "router thanks"
    assert [path for path, *_ in handler.calls] == ["/seldon.protos.Model/SendFeedback"] * 2  # b, then r
    sent = pb.Feedback.FromString(handler.calls[0][2])
    assert sent.reward == 2.0 and dict(sent.response.meta.routing) == {"r": 1}
    puid = dict(call.initial_metadata())["seldon-puid"]
    assert all(metadata["seldon-puid"] == puid for _, metadata, _ in handler.calls)


def test_feedback_without_routing_goes_to_every_child(executor, recording):
    handler, port = recording
    running = executor(node("r", port, "ROUTER", [node("a", port), node("b", port)]))
    running.stub.SendFeedback(pb.Feedback(request=ndarray([[1]]), reward=1.0), timeout=TIMEOUT)
    assert len(handler.calls) == 3


def test_a_combiner_root_answers_feedback_with_an_empty_message(executor, recording):
    handler, port = recording
    running = executor(node("c", port, "COMBINER", [node("a", port)]))
    answer = running.stub.SendFeedback(pb.Feedback(reward=1.0), timeout=TIMEOUT)
    assert answer == pb.SeldonMessage() and len(handler.calls) == 1


def test_a_nodes_error_reaches_the_client_with_its_code_and_message(executor, errors):
    running = executor(node("e", errors.grpc_port))
    request = pb.SeldonMessage(strData="seldon")
    with grpc.insecure_channel(f"127.0.0.1:{errors.grpc_port}") as channel:
        direct = rpc_error(pb_grpc.ModelStub(channel).Predict, request)
    through = rpc_error(running.stub.Predict, request)
    assert direct.code() != grpc.StatusCode.OK
    assert (through.code(), through.details()) == (direct.code(), direct.details())
    assert running.server_metrics[-1][2] == running.client_metrics[-1][3] != "OK"


def test_a_recorded_status_passes_through_unchanged(executor, recording):
    handler, port = recording
    handler.answers["/seldon.protos.Model/Predict"] = (
        grpc.StatusCode.PERMISSION_DENIED,
        "no <entry> & no way",
    )
    running = executor(node("m", port))
    error = rpc_error(running.stub.Predict, pb.SeldonMessage())
    assert (error.code(), error.details()) == (grpc.StatusCode.PERMISSION_DENIED, "no <entry> & no way")
    assert running.client_metrics[0][3] == "PermissionDenied"
    assert running.server_metrics[0][2] == "PermissionDenied"


def test_a_node_that_is_down_is_unavailable_and_named(executor):
    port = free_port()
    running = executor(node("gone", port))
    error = rpc_error(running.stub.Predict, ndarray([[1]]))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert f"node 'gone' at 127.0.0.1:{port} is unavailable (/seldon.protos.Model/Predict)" in error.details()


def test_a_slow_node_hits_the_deadline(executor, sleeper):
    running = executor(node("s", sleeper.grpc_port), timeout_s=0.3)
    started = time.monotonic()
    error = rpc_error(running.stub.Predict, ndarray([[1.0]]))
    assert time.monotonic() - started < 0.9
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "did not answer /seldon.protos.Model/Predict within 0.3s" in error.details()
    assert running.client_metrics[0][3] == "DeadlineExceeded"
    assert running.server_metrics[0][2] == "DeadlineExceeded"


def test_the_clients_deadline_bounds_the_node_calls(executor, sleeper):
    running = executor(node("s", sleeper.grpc_port), timeout_s=None)
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as info:
        running.stub.Predict(ndarray([[1.0]]), timeout=0.3)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    deadline = time.monotonic() + 2
    while not running.client_metrics and time.monotonic() < deadline:
        time.sleep(0.01)
    assert time.monotonic() - started < 0.9  # the node call gave up with the client, not after 1s
    assert running.client_metrics[0][3] == "DeadlineExceeded"


def test_payload_logger_events_carry_the_puid_unless_skipped(executor, identity):
    events: list[tuple] = []
    spec = node("i", identity.grpc_port, logger={"mode": "all"})
    log = lambda node, kind, message, request: events.append((node.name, kind, message, request.context.puid))  # noqa: E731
    running = executor(spec, log=log)
    _, call = running.stub.Predict.with_call(ndarray([[1]]), timeout=TIMEOUT)
    puid = dict(call.initial_metadata())["seldon-puid"]
    assert [(name, kind, type(message), seen) for name, kind, message, seen in events] == [
        ("i", "request", pb.SeldonMessage, puid),
        ("i", "response", pb.SeldonMessage, puid),
    ]
    running.stub.Predict(ndarray([[1]]), timeout=TIMEOUT, metadata=[("seldon-skip-logging", "true")])
    assert len(events) == 2


def test_a_call_without_any_deadline_works(executor, identity):
    running = executor(node("i", identity.grpc_port), timeout_s=None)
    assert rows(running.stub.Predict(ndarray([[4]]))) == [[4.0]]


def test_a_request_over_the_size_limit_is_refused(executor, identity):
    running = executor(node("i", identity.grpc_port), max_message_size=64)
    error = rpc_error(running.stub.Predict, pb.SeldonMessage(strData="x" * 100))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert running.stub.Predict(pb.SeldonMessage(strData="small"), timeout=TIMEOUT).strData == "small"


def test_the_puid_is_generated_forwarded_and_echoed(executor, recording):
    handler, port = recording
    running = executor(node("m", port))
    _, call = running.stub.Predict.with_call(pb.SeldonMessage(), timeout=TIMEOUT)
    puid = dict(call.initial_metadata())["seldon-puid"]
    assert str(uuid.UUID(puid, version=4)) == puid
    assert handler.calls[-1][1]["seldon-puid"] == puid
    _, call = running.stub.Predict.with_call(
        pb.SeldonMessage(), timeout=TIMEOUT, metadata=[("seldon-puid", "mine")]
    )
    assert dict(call.initial_metadata())["seldon-puid"] == "mine"
    assert handler.calls[-1][1]["seldon-puid"] == "mine"
    _, call = running.stub.Predict.with_call(pb.SeldonMessage(), timeout=TIMEOUT)
    assert dict(call.initial_metadata())["seldon-puid"] not in (puid, "mine")  # one per request


def test_the_clients_metadata_goes_to_every_node(executor, recording):
    handler, port = recording
    running = executor(node("t", port, "TRANSFORMER", [node("m", port)]))
    sent = [("authorization", "Bearer t"), ("x-custom", "1"), ("trace-bin", b"\x00\x01")]
    running.stub.Predict(pb.SeldonMessage(), timeout=TIMEOUT, metadata=sent)
    assert [path for path, *_ in handler.calls] == [
        "/seldon.protos.Transformer/TransformInput",
        "/seldon.protos.Model/Predict",
    ]
    for _, metadata, _ in handler.calls:
        assert metadata["authorization"] == "Bearer t" and metadata["x-custom"] == "1"
        assert metadata["trace-bin"] == b"\x00\x01"
        assert "grpc-timeout" not in metadata


def test_a_router_answering_no_number_fails_the_request_clearly(executor, recording):
    handler, port = recording
    handler.answers["/seldon.protos.Router/Route"] = ndarray([["left"]])
    running = executor(node("r", port, "ROUTER", [node("a", port)]))
    error = rpc_error(running.stub.Predict, pb.SeldonMessage())
    assert error.code() == grpc.StatusCode.INTERNAL and "is not a number" in error.details()


def test_a_route_outside_the_children_is_an_internal_error(executor, recording):
    handler, port = recording
    handler.answers["/seldon.protos.Router/Route"] = ndarray([[5]])
    running = executor(node("r", port, "ROUTER", [node("a", port)]))
    error = rpc_error(running.stub.Predict, pb.SeldonMessage())
    assert error.code() == grpc.StatusCode.INTERNAL and "chose route 5" in error.details()


def test_model_metadata_of_a_node_and_of_an_unknown_name(executor, identity):
    running = executor(node("i", identity.grpc_port))
    metadata = running.stub.ModelMetadata(pb.SeldonModelMetadataRequest(name="i"), timeout=TIMEOUT)
    assert isinstance(metadata, pb.SeldonModelMetadata)
    with grpc.insecure_channel(f"127.0.0.1:{identity.grpc_port}") as channel:
        assert metadata == pb_grpc.ModelStub(channel).Metadata(empty_pb2.Empty(), timeout=TIMEOUT)
    error = rpc_error(running.stub.ModelMetadata, pb.SeldonModelMetadataRequest(name="nope"))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Failed to find model nope")
    assert running.server_metrics[-1][:3] == ("/seldon.protos.Seldon/ModelMetadata", "unary", "NotFound")


def test_graph_metadata_lists_every_node_and_the_graphs_edges(executor, recording):
    handler, port = recording
    tensor = {"messagetype": "tensor", "shape": [1, 2], "name": "x"}
    handler.answers["/seldon.protos.Model/Metadata"] = json_format.ParseDict(
        {"name": "some", "versions": ["v1"], "platform": "py", "inputs": [tensor], "outputs": [tensor],
         "custom": {"k": "v"}}, pb.SeldonModelMetadata(),
    )  # fmt: skip
    running = executor(node("t", port, "TRANSFORMER", [node("m", port)]), "seldon")
    answer = running.stub.GraphMetadata(empty_pb2.Empty(), timeout=TIMEOUT)
    assert answer.name == "p" and set(answer.models) == {"t", "m"}
    assert answer.models["m"] == handler.answers["/seldon.protos.Model/Metadata"]
    assert [item.name for item in answer.inputs] == ["x"] and list(answer.outputs[0].shape) == [1, 2]
    assert [path for path, *_ in handler.calls] == ["/seldon.protos.Model/Metadata"] * 2


def test_graph_metadata_of_real_microservices(executor, transformer, identity):
    running = executor(node("t", transformer.grpc_port, "TRANSFORMER", [node("i", identity.grpc_port)]))
    answer = running.stub.GraphMetadata(empty_pb2.Empty(), timeout=TIMEOUT)
    assert answer.name == "p" and set(answer.models) == {"t", "i"}


def test_graph_metadata_fails_with_the_failing_nodes_status(executor, recording):
    handler, port = recording
    handler.answers["/seldon.protos.Model/Metadata"] = (grpc.StatusCode.UNIMPLEMENTED, "no metadata here")
    running = executor(node("m", port))
    error = rpc_error(running.stub.GraphMetadata, empty_pb2.Empty())
    assert (error.code(), error.details()) == (grpc.StatusCode.UNIMPLEMENTED, "no metadata here")


def test_reflection_lists_the_seldon_service(executor, identity):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    running = executor(node("i", identity.grpc_port))
    stub = reflection_pb2_grpc.ServerReflectionStub(running.channel)
    (answer,) = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {service.name for service in answer.list_services_response.service}
    assert "seldon.protos.Seldon" in names


def test_parallel_requests_share_one_connection_per_node(executor, transformer, identity):
    running = executor(node("t", transformer.grpc_port, "TRANSFORMER", [node("i", identity.grpc_port)]))
    results: list[Any] = []

    def one(value: int) -> None:
        results.append(rows(running.stub.Predict(ndarray([[value]]), timeout=TIMEOUT)))

    threads = [threading.Thread(target=one, args=(value,)) for value in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [[[2.0 * value]] for value in range(8)]
    assert len(running.walk.call._channels) == 2


def test_many_requests_in_flight_are_served_at_once(executor, recording):
    """One event loop, no thread per request: 20 Predicts on a node that takes 0.2 s each are
    all at the node together, and finish in about one node call, not twenty (4 s in a row)."""
    handler, port = recording
    handler.delay = 0.2
    running = executor(node("t", port, "TRANSFORMER", [node("m", port)]))
    started = time.monotonic()
    calls = [
        running.stub.Predict.future(pb.SeldonMessage(strData=str(n)), timeout=TIMEOUT) for n in range(20)
    ]
    answers = [call.result() for call in calls]
    took = time.monotonic() - started
    assert [answer.strData for answer in answers] == ["recorded"] * 20
    assert len(handler.calls) == 40  # each request went through both nodes
    assert handler.most_in_flight >= 10  # serialised would be 1
    assert took < 2.0, f"20 requests of two 0.2 s node calls took {took:.2f}s"
    assert [code for _, _, code, _ in running.server_metrics] == ["OK"] * 20


# -- the executor's gRPC process ----------------------------------------------------------------


def test_sigterm_lets_a_grpc_request_in_flight_finish(tmp_path, recording):
    """The real executor: its gRPC process stops gracefully, answering what it had accepted."""
    handler, port = recording
    handler.delay = 1.0
    graph_spec = {"name": "m", "endpoint": {"service_host": "127.0.0.1", "grpcPort": port}}
    server = start_executor(tmp_path, sdep(graph_spec))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            stub = pb_grpc.SeldonStub(channel)
            call = stub.Predict.future(pb.SeldonMessage(strData="late"), timeout=TIMEOUT)
            deadline = time.monotonic() + 5
            while not handler.in_flight and time.monotonic() < deadline:
                time.sleep(0.02)
            server.process.send_signal(signal.SIGTERM)
            assert call.result().strData == "recorded"
        assert server.process.wait(timeout=20) == 0
    finally:
        server.stop()


def test_the_grpc_process_fails_when_it_cannot_listen():
    from seldon_wrapper.executor.serving import _serve_grpc

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        settings = ExecutorSettings("d", "ns", "p", grpc_port=busy, host="127.0.0.1")
        predictor = graph.predictor_from_spec({"name": "p", "graph": node("m", free_port())})
        assert _serve_grpc(predictor, settings, ExecutorMetrics("d", predictor), None) == 1


# -- V2 -----------------------------------------------------------------------------------------


def fp64_request(values: list[float], model_name: str = "") -> v2.ModelInferRequest:
    request = v2.ModelInferRequest(model_name=model_name, id="req-1")
    request.parameters["tenant"].string_param = "acme"
    tensor = request.inputs.add(name="x", datatype="FP64", shape=[1, len(values)])
    tensor.contents.fp64_contents.extend(values)
    return request


def output_values(response: v2.ModelInferResponse) -> list[float]:
    (output,) = response.outputs
    if response.raw_output_contents:
        return np.frombuffer(response.raw_output_contents[0], dtype="<f8").tolist()
    return list(output.contents.fp64_contents)


def test_v2_model_infer_chains_two_nodes(executor, v2_transformer, v2_double):
    spec = node("t", v2_transformer.grpc_port, "TRANSFORMER", [node("d", v2_double.grpc_port)])
    running = executor(spec, "v2")
    answer = running.stub.ModelInfer(fp64_request([1.0, 2.0]), timeout=TIMEOUT)
    assert output_values(answer) == [202.0, 204.0]  # (x + 100) * 2
    assert answer.id == "req-1" and answer.model_name == "d"
    assert answer.parameters["tenant"].string_param == "acme"
    assert [(name, service) for name, service, *_ in running.client_metrics] == [
        ("t", "/inference.GRPCInferenceService/ModelInfer"),
        ("d", "/inference.GRPCInferenceService/ModelInfer"),
    ]


def test_v2_model_name_overrides_every_nodes_name(executor, v2_transformer, v2_double):
    spec = node("t", v2_transformer.grpc_port, "TRANSFORMER", [node("d", v2_double.grpc_port)])
    running = executor(spec, "v2")
    error = rpc_error(running.stub.ModelInfer, fp64_request([1.0], model_name="t"))
    assert error.code() == grpc.StatusCode.NOT_FOUND  # d was asked for model "t"
    assert [name for name, *_ in running.client_metrics] == ["t", "t"]
    assert running.client_metrics[1][3] == "NotFound"
    only_t = executor(node("t", v2_transformer.grpc_port, "TRANSFORMER"), "v2")
    assert output_values(only_t.stub.ModelInfer(fp64_request([1.0], "t"), timeout=TIMEOUT)) == [101.0]


def test_v2_ready_metadata_and_server_rpcs(executor, v2_transformer, v2_double):
    spec = node("t", v2_transformer.grpc_port, "TRANSFORMER", [node("d", v2_double.grpc_port)])
    stub = executor(spec, "v2").stub
    assert stub.ModelReady(v2.ModelReadyRequest(name="d"), timeout=TIMEOUT).ready is True
    assert stub.ModelMetadata(v2.ModelMetadataRequest(name="t"), timeout=TIMEOUT).name == "t"
    error = rpc_error(stub.ModelReady, v2.ModelReadyRequest(name="nope"))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Failed to find model nope")
    assert stub.ServerLive(v2.ServerLiveRequest(), timeout=TIMEOUT).live is True
    assert stub.ServerReady(v2.ServerReadyRequest(), timeout=TIMEOUT).ready is True
    error = rpc_error(stub.ServerMetadata, v2.ServerMetadataRequest())
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED and "ModelInfer" in error.details()


def test_v2_refuses_routers_and_combiners_clearly(executor, v2_double):
    running = executor(node("r", v2_double.grpc_port, "ROUTER", [node("d", v2_double.grpc_port)]), "v2")
    error = rpc_error(running.stub.ModelInfer, fp64_request([1.0]))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "routers and combiners are not supported over V2 gRPC" in error.details()
    spec = node("c", v2_double.grpc_port, "COMBINER", [node("d", v2_double.grpc_port)])
    error = rpc_error(executor(spec, "v2").stub.ModelInfer, fp64_request([1.0]))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "routers and combiners are not supported over V2 gRPC" in error.details()


def test_v2_puid_and_metadata_reach_the_node(executor, recording):
    handler, port = recording
    answer = v2.ModelInferResponse(model_name="m", id="req-1")
    answer.outputs.add(name="y", datatype="FP64", shape=[1]).contents.fp64_contents.append(7.0)
    handler.answers["/inference.GRPCInferenceService/ModelInfer"] = answer
    running = executor(node("m", port), "v2")
    result = running.stub.ModelInfer(fp64_request([1.0]), timeout=TIMEOUT, metadata=[("x-custom", "1")])
    assert result == answer
    path, metadata, body = handler.calls[0]
    assert metadata["x-custom"] == "1" and len(metadata["seldon-puid"]) == 36
    sent = v2.ModelInferRequest.FromString(body)
    assert sent.model_name == "m" and sent.id == "req-1"  # the node's name, set at call time
