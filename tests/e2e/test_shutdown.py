"""SIGTERM as Kubernetes sends it (issue 13, point 4): readiness says no at once, every request
already accepted on REST and gRPC is answered, then the whole process tree exits 0 and leaves
nothing behind."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from seldon_wrapper.proto import grpc_predict_v2_pb2 as v2_pb
from seldon_wrapper.proto import grpc_predict_v2_pb2_grpc as v2_grpc
from seldon_wrapper.proto import prediction_pb2
from tests.conftest import WITH_SPEEDUPS, wait_for_loads, worker_pid_env
from tests.e2e.grpc_helpers import grpc_channel, rpc

ONE_SECOND = json.dumps({"data": {"ndarray": [1.0]}})


def rest_call(port: int, results: list) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=40)
    try:
        conn.request(
            "POST", "/api/v1.0/predictions", body=ONE_SECOND, headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        results.append((response.status, json.loads(response.read())["data"]["ndarray"]))
    except Exception as exc:  # noqa: BLE001 - recorded, asserted below
        results.append(("failed", repr(exc)))
    finally:
        conn.close()


def grpc_call(predict, results: list) -> None:
    request = prediction_pb2.SeldonMessage()
    request.data.ndarray.extend([1.0])
    try:
        results.append(("OK", list(predict(request, timeout=40).data.ndarray)))
    except grpc.RpcError as exc:
        results.append((exc.code().name, exc.details()))


def kept_alive_get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path)
    return answer(conn)


def answer(conn: http.client.HTTPConnection) -> int:
    response = conn.getresponse()
    response.read()
    return response.status


def test_sigterm_answers_every_accepted_request_then_exits_cleanly(serve_speedups, tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    server = serve_speedups(
        "WorkerPidModel",
        "--workers",
        "2",
        "--grpc-threads",
        "4",
        "--keepalive",
        "30",
        env={**WITH_SPEEDUPS, **worker_pid_env(tmp_path), "TMPDIR": str(temp)},
    )
    wait_for_loads(tmp_path / "load", 3)  # two REST workers and the gRPC process
    assert os.listdir(temp), "the multiprocess metrics directory lives here while serving"
    readiness = [http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=40) for _ in range(2)]
    for conn, path in zip(readiness, ("/health/status", "/v2/health/ready"), strict=True):
        assert kept_alive_get(conn, path) == 200
    with grpc_channel(server) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        v2 = v2_grpc.GRPCInferenceServiceStub(channel)
        assert v2.ServerReady(v2_pb.ServerReadyRequest(), timeout=5).ready
        predict = rpc(channel, "Model", "Predict")
        rest_results: list = []
        grpc_results: list = []
        calls = [threading.Thread(target=rest_call, args=(server.http_port, rest_results)) for _ in range(10)]
        calls += [threading.Thread(target=grpc_call, args=(predict, grpc_results)) for _ in range(10)]
        for call in calls:
            call.start()
        time.sleep(0.5)  # all 20 sent: some running, the rest queued or in the listen backlog
        started = time.monotonic()
        os.kill(server.process.pid, signal.SIGTERM)
        time.sleep(0.3)
        # During the grace period readiness says no, on connections opened before (a probe's
        # new connection is not accepted any more).
        for conn, path in zip(readiness, ("/health/status", "/v2/health/ready"), strict=True):
            conn.request("GET", path)
        assert [answer(conn) for conn in readiness] == [503, 503]
        check = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=30)
        assert check.status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert not v2.ServerReady(v2_pb.ServerReadyRequest(), timeout=30).ready
        for call in calls:
            call.join(40)
    assert [status for status, _ in rest_results] == [200] * 10, rest_results
    assert [status for status, _ in grpc_results] == ["OK"] * 10, grpc_results
    assert server.process.wait(40) == 0
    assert time.monotonic() - started < 25
    try:
        os.killpg(server.process.pid, 0)
        leftovers = True
    except ProcessLookupError:
        leftovers = False
    assert not leftovers, "a process of the server outlived it"
    assert os.listdir(temp) == [], "the metrics directory was left behind"
    for conn in readiness:
        conn.close()


def test_an_open_health_watch_neither_holds_the_shutdown_nor_misses_not_serving(serve):
    # gRPC clients with client-side health checking keep a Watch stream open all the time.
    server = serve("IdentityModel", "--grpc-threads", "2")
    with grpc_channel(server) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=""), timeout=60
        )
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        started = time.monotonic()
        os.kill(server.process.pid, signal.SIGTERM)
        statuses = []
        try:
            statuses.extend(update.status for update in watch)
        except grpc.RpcError:
            pass  # the stream is ended by the server's stop
        assert server.process.wait(20) == 0
        assert time.monotonic() - started < 5  # not the 25 s grace period
    assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses
