"""The gRPC server itself: reflection (4.3), health (our addition), gRPC processes (1.10),
message size limits (1.6, 4.3) and graceful SIGTERM."""

import collections
import json
import re
import signal
import time

import grpc
import pytest
import requests
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from seldon_wrapper.proto import prediction_pb2
from tests.conftest import module_server
from tests.e2e.grpc_helpers import (
    call,
    call_error,
    grpc_channel,
    message,
    module_channel,
    port_refuses,
    rpc,
    to_dict,
    wait_serving,
)

identity = module_server("IdentityModel")
identity_channel = module_channel("identity")

SELDON_SERVICES = {
    f"seldon.protos.{name}"
    for name in ("Generic", "Model", "Router", "Transformer", "OutputTransformer", "Combiner", "Seldon")
}
HEALTH_SERVICE = "grpc.health.v1.Health"
REFLECTION_SERVICE = "grpc.reflection.v1alpha.ServerReflection"


def reflect(channel, **request_fields):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(**request_fields)
    responses = list(stub.ServerReflectionInfo(iter([request]), timeout=10))
    assert len(responses) == 1
    return responses[0]


def predict_bin(channel, payload: bytes):
    return rpc(channel, "Model", "Predict")(prediction_pb2.SeldonMessage(binData=payload), timeout=30)


# -- reflection ---------------------------------------------------------------------------------


def test_reflection_lists_all_services(identity_channel):
    response = reflect(identity_channel, list_services="")
    listed = {service.name for service in response.list_services_response.service}
    assert SELDON_SERVICES | {HEALTH_SERVICE, REFLECTION_SERVICE} <= listed
    assert {name for name in listed if name.startswith("seldon.protos.")} == SELDON_SERVICES


def test_reflection_file_containing_symbol(identity_channel):
    response = reflect(identity_channel, file_containing_symbol="seldon.protos.Model")
    assert response.WhichOneof("message_response") == "file_descriptor_response"
    files = {}
    for raw in response.file_descriptor_response.file_descriptor_proto:
        proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
        files[proto.name] = proto
    prediction = next(proto for proto in files.values() if proto.package == "seldon.protos")
    services = {service.name: service for service in prediction.service}
    assert set(services) == {name.rsplit(".", 1)[1] for name in SELDON_SERVICES}
    assert {method.name for method in services["Model"].method} == {"Predict", "SendFeedback", "Metadata"}
    assert "SeldonMessage" in {msg.name for msg in prediction.message_type}


def test_reflection_unknown_symbol_is_not_found(identity_channel):
    response = reflect(identity_channel, file_containing_symbol="seldon.protos.NoSuchService")
    assert response.WhichOneof("message_response") == "error_response"
    assert response.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]


# -- health -------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["", "seldon.protos.Model"])
def test_health_check_serving(identity_channel, service):
    stub = health_pb2_grpc.HealthStub(identity_channel)
    response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_health_check_unknown_service_is_not_found(identity_channel):
    stub = health_pb2_grpc.HealthStub(identity_channel)
    error = call_error(stub.Check, health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


# -- message size ---------------------------------------------------------------------------------


def test_default_server_accepts_3_mb(identity_channel):
    payload = bytes(range(256)) * (3 * 1024 * 4)  # 3 MiB
    response = predict_bin(identity_channel, payload)
    assert response.binData == payload


def test_default_server_rejects_more_than_4_mib(identity_channel):
    error = call_error(
        rpc(identity_channel, "Model", "Predict"),
        prediction_pb2.SeldonMessage(binData=b"x" * (5 * 1024 * 1024)),
    )
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert predict_bin(identity_channel, b"small").binData == b"small"


@pytest.mark.parametrize("how", ["flag", "annotation"])
def test_max_message_size(serve, tmp_path, how):
    if how == "flag":
        server = serve("IdentityModel", "--grpc-max-message-size", "1000")
    else:
        annotations = tmp_path / "annotations"
        annotations.write_text(
            'seldon.io/some-other="x"\nseldon.io/grpc-max-message-size="1000"\nprometheus.io/scrape="true"\n'
        )
        server = serve("IdentityModel", env={"SELDON_ANNOTATIONS_FILE": str(annotations)})
    with grpc_channel(server) as channel:
        error = call_error(
            rpc(channel, "Model", "Predict"), prediction_pb2.SeldonMessage(binData=b"x" * 10240)
        )
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert predict_bin(channel, b"small").binData == b"small"
        # 900 bytes in and out still fit under the 1000 byte limit.
        assert predict_bin(channel, b"y" * 900).binData == b"y" * 900


def test_messages_over_the_limit_are_counted_as_refused(serve):
    server = serve("IdentityModel", "--grpc-max-message-size", "1000")
    with grpc_channel(server) as channel:
        error = call_error(
            rpc(channel, "Model", "Predict"), prediction_pb2.SeldonMessage(binData=b"x" * 1500)
        )
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "larger than max (1503 vs. 1000)" in error.details()
        # Far over the limit gRPC refuses it itself, before the server sees it: not counted.
        error = call_error(
            rpc(channel, "Model", "Predict"), prediction_pb2.SeldonMessage(binData=b"x" * 5000)
        )
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert predict_bin(channel, b"small").binData == b"small"
    metrics = requests.get(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10).text
    refused = re.search(
        r'^seldon_api_refused_requests_total\{[^}]*limit="grpc_message"[^}]*\} (\S+)$', metrics, re.M
    )
    assert refused is not None and float(refused.group(1)) == 1.0


# -- gRPC processes -------------------------------------------------------------------------------


def test_two_grpc_workers_serve_and_each_loads_once(serve, tmp_path):
    init_log, load_log = tmp_path / "init.log", tmp_path / "load.log"
    params = json.dumps(
        [
            {"name": "init_log", "value": str(init_log), "type": "STRING"},
            {"name": "load_log", "value": str(load_log), "type": "STRING"},
        ]
    )
    server = serve("WorkerPidModel", "--grpc-workers", "2", "--parameters", params)
    master = server.process.pid
    request = message({"data": {"ndarray": [0]}})
    grpc_pids: set[int] = set()
    deadline = time.monotonic() + 30
    while len(grpc_pids) < 2 and time.monotonic() < deadline:
        # A separate TCP connection per channel: the kernel balances connections between the
        # SO_REUSEPORT listeners of the two processes.
        with grpc_channel(server, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            response = call(rpc(channel, "Model", "Predict"), request)
            grpc_pids.add(int(response["data"]["ndarray"][0]))
    assert len(grpc_pids) == 2, f"every gRPC connection was served by {grpc_pids}"

    rest = requests.post(server.url + "/predict", json={"data": {"ndarray": [0]}}, timeout=10)
    rest_pid = rest.json()["data"]["ndarray"][0]
    assert master not in grpc_pids
    assert rest_pid not in grpc_pids

    loads = collections.Counter(int(line) for line in load_log.read_text().split())
    assert {pid: loads[pid] for pid in grpc_pids} == {pid: 1 for pid in grpc_pids}
    assert loads == collections.Counter({rest_pid: 1, **{pid: 1 for pid in grpc_pids}})
    assert [int(line) for line in init_log.read_text().split()] == [master]


def test_zero_grpc_workers_binds_no_port(serve):
    server = serve("IdentityModel", "--grpc-workers", "0")
    time.sleep(1)  # a gRPC process, if any were started, would be listening by now
    assert port_refuses(server.grpc_port)
    with grpc_channel(server, wait=False) as channel:
        error = call_error(rpc(channel, "Model", "Predict"), message({"strData": "x"}))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(AssertionError, match="never answered SERVING"):
            wait_serving(channel, timeout=1)
    response = requests.post(server.url + "/predict", json={"strData": "x"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["strData"] == "x"


# -- SIGTERM --------------------------------------------------------------------------------------


def test_sigterm_lets_the_in_flight_call_finish(serve):
    server = serve("SleepModel")  # predict sleeps X[0] seconds
    with grpc_channel(server) as channel:
        future = rpc(channel, "Model", "Predict").future(message({"data": {"ndarray": [1]}}), timeout=20)
        time.sleep(0.3)
        assert not future.done()
        server.process.send_signal(signal.SIGTERM)
        terminated = time.monotonic()
        response = future.result(timeout=20)
        assert to_dict(response) == {"meta": {}, "data": {"ndarray": [1.0]}}
    assert server.process.wait(timeout=10) == 0
    assert time.monotonic() - terminated < 10
    assert port_refuses(server.grpc_port)
    with grpc_channel(server, wait=False) as channel:
        error = call_error(rpc(channel, "Model", "Predict"), message({"data": {"ndarray": [0]}}))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
