"""Adaptive batching against real servers: concurrent gRPC, V2 gRPC and REST (threaded) callers
share predict calls, each gets its own rows, puid and tags, and the batch metrics are scraped."""

from __future__ import annotations

import re
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest
import requests

from seldon_wrapper.proto import grpc_predict_v2_pb2_grpc as pb_grpc
from tests.conftest import WITH_SPEEDUPS, module_server, start_server
from tests.e2e.grpc_helpers import grpc_channel, message, rpc, to_dict
from tests.e2e.v2_helpers import typed_request

CALLERS = 16
ROUNDS = 3

batched = module_server("BatchProbe", "--max-batch-size", "8", "--threads", "8")
unbatched = module_server("BatchProbe", "--threads", "8")
# One thread per REST worker: the keep-alive worker's event loop gathers the groups.
batched_loop = module_server("BatchProbe", "--max-batch-size", "8", env=WITH_SPEEDUPS)


def concurrently(call, count: int) -> list:
    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return list(pool.map(call, range(count)))


def scrape_batches(server) -> tuple[float, float]:
    """(batched predict calls, requests in them) from the batch-size histogram."""
    text = requests.get(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10).text
    count = re.search(r"^seldon_api_model_batch_size_count\{[^}]*\} (\S+)$", text, re.M)
    total = re.search(r"^seldon_api_model_batch_size_sum\{[^}]*\} (\S+)$", text, re.M)
    assert count and total, "no batch-size histogram in the scrape"
    assert re.search(r"^seldon_api_model_batch_wait_seconds_bucket\{", text, re.M)
    return float(count.group(1)), float(total.group(1))


def test_grpc_callers_share_calls_and_each_gets_its_own_answer(batched):
    with grpc_channel(batched) as channel:
        predict = rpc(channel, "Model", "Predict")

        def one(n: int) -> dict:
            request = message({"data": {"ndarray": [[n, n + 1]]}, "meta": {"puid": f"p{n}"}})
            return to_dict(predict(request, timeout=10))

        answers = concurrently(one, CALLERS * ROUNDS)
    for n, answer in enumerate(answers):
        assert answer["data"]["ndarray"] == [[2 * n, 2 * n + 2]]
        assert answer["meta"]["puid"] == f"p{n}"
        assert answer["meta"]["tags"]["model"] == "probe"
    assert max(a["meta"]["tags"]["call_rows"] for a in answers) > 1
    calls, requests_in_calls = scrape_batches(batched)
    assert requests_in_calls >= CALLERS * ROUNDS and calls < requests_in_calls


@pytest.mark.parametrize("server_name", ["batched", "batched_loop"])
def test_rest_and_v2_rest_callers_are_batched_too(server_name, request):
    batched = request.getfixturevalue(server_name)
    def rest(n: int) -> dict:
        body = {"data": {"ndarray": [[n, 0]]}, "meta": {"puid": f"r{n}"}}
        return requests.post(batched.url + "/api/v1.0/predictions", json=body, timeout=10).json()

    answers = concurrently(rest, CALLERS * 2)
    assert [a["data"]["ndarray"] for a in answers] == [[[2 * n, 0]] for n in range(CALLERS * 2)]
    assert max(a["meta"]["tags"]["call_rows"] for a in answers) > 1

    def v2(n: int) -> dict:
        body = {"id": f"v{n}", "inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 2], "data": [n, 1]}]}
        return requests.post(batched.url + "/v2/models/BatchProbe/infer", json=body, timeout=10).json()

    answers = concurrently(v2, CALLERS * 2)
    assert [a["outputs"][0]["data"] for a in answers] == [[2 * n, 2] for n in range(CALLERS * 2)]
    assert [a["id"] for a in answers] == [f"v{n}" for n in range(CALLERS * 2)]
    assert max(a["parameters"]["call_rows"] for a in answers) > 1


def test_v2_grpc_callers_are_batched_too(batched):
    with grpc_channel(batched) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)

        def one(n: int):
            request = typed_request("BatchProbe", {"x": ("FP64", np.array([[n, 3.0]]))}, id=f"g{n}")
            return stub.ModelInfer(request, timeout=10)

        answers = concurrently(one, CALLERS * 2)
    for n, answer in enumerate(answers):
        assert answer.id == f"g{n}"
        assert list(answer.outputs[0].contents.fp64_contents) == [2.0 * n, 6.0]
    assert max(a.parameters["call_rows"].int64_param for a in answers) > 1


def test_a_bad_batched_answer_fails_each_member_with_the_contract(batched):
    with grpc_channel(batched) as channel:
        predict = rpc(channel, "Model", "Predict")

        def one(n: int):
            try:
                return to_dict(predict(message({"data": {"ndarray": [[n, n, n]]}}), timeout=10))
            except grpc.RpcError as exc:
                return exc

        outcomes = concurrently(one, CALLERS)
    errors = [o for o in outcomes if isinstance(o, grpc.RpcError)]
    assert errors, "no batch formed"
    for error in errors:
        assert error.code() == grpc.StatusCode.INTERNAL
        assert "one row per input row" in error.details()
    assert all(
        o["data"]["ndarray"] == [[2 * n, 2 * n, 2 * n]] for n, o in enumerate(outcomes) if isinstance(o, dict)
    )
    with grpc_channel(batched) as channel:  # and the server still serves
        answer = to_dict(
            rpc(channel, "Model", "Predict")(message({"data": {"ndarray": [[1, 2]]}}), timeout=10)
        )
    assert answer["data"]["ndarray"] == [[2, 4]]


def test_a_bad_batched_answer_on_rest_is_a_500_in_the_error_format(batched_loop):
    def one(n: int) -> requests.Response:
        body = {"data": {"ndarray": [[n, n, n]]}}
        return requests.post(batched_loop.url + "/api/v1.0/predictions", json=body, timeout=10)

    answers = concurrently(one, CALLERS)
    failed = [a for a in answers if a.status_code != 200]
    assert failed, "no batch formed"
    for answer in failed:
        assert answer.status_code == 500
        status = answer.json()["status"]
        assert status["status"] == 1 and status["reason"] == "MICROSERVICE_INTERNAL_ERROR"
        assert "one row per input row" in status["info"]
    assert requests.post(batched_loop.url + "/predict", json={"data": {"ndarray": [[1, 2]]}}, timeout=10).ok


def test_without_the_flag_every_call_is_alone(unbatched):
    with grpc_channel(unbatched) as channel:
        predict = rpc(channel, "Model", "Predict")
        answers = concurrently(
            lambda n: to_dict(predict(message({"data": {"ndarray": [[n, 1]]}}), timeout=10)), 32
        )
    assert {a["meta"]["tags"]["call_rows"] for a in answers} == {1}
    text = requests.get(f"http://127.0.0.1:{unbatched.metrics_port}/metrics", timeout=10).text
    assert "seldon_api_model_batch_size" not in text


def test_callers_that_hang_up_inside_a_group_leave_the_others_answered(batched_loop):
    """Half of a group's clients close as soon as their request is sent; the rest get their
    answers, and the worker keeps serving with no traceback in its log."""

    body = b'{"data":{"ndarray":[[5,6]]}}'
    head = (
        f"POST /api/v1.0/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    socks = []
    for n in range(CALLERS):
        sock = socket.create_connection(("127.0.0.1", batched_loop.http_port), timeout=10)
        sock.sendall(head + body)
        if n % 2:
            sock.close()
        else:
            socks.append(sock)
    for sock in socks:
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        sock.close()
        assert answer.startswith(b"HTTP/1.1 200") and b"[[10,12]]" in answer
    after = requests.post(batched_loop.url + "/predict", json={"data": {"ndarray": [[1, 2]]}}, timeout=10)
    assert after.json()["data"]["ndarray"] == [[2, 4]]
    assert "Traceback" not in batched_loop.log()


def test_sigterm_while_a_group_runs_answers_every_member_then_exits(tmp_path):
    """SIGTERM mid-batch: the group in the model and the requests already sent are answered,
    then the server exits 0 (the keep-alive worker's graceful exit, with a group in flight)."""
    server = start_server("BatchProbe", "--max-batch-size", "8", env=WITH_SPEEDUPS, tmp_path=tmp_path)
    try:
        url = server.url + "/api/v1.0/predictions"

        def one(n: int) -> requests.Response:
            return requests.post(url, json={"data": {"ndarray": [[n, 1]]}}, timeout=20)

        with ThreadPoolExecutor(max_workers=CALLERS) as pool:
            pending = [pool.submit(one, n) for n in range(CALLERS)]
            time.sleep(0.05)  # the first group is in the model (30 ms a call)
            server.process.send_signal(signal.SIGTERM)
            answers = [future.result() for future in pending]
        assert [a.status_code for a in answers] == [200] * CALLERS
        assert [a.json()["data"]["ndarray"] for a in answers] == [[[2 * n, 2]] for n in range(CALLERS)]
        assert server.process.wait(timeout=30) == 0
        assert "Traceback" not in server.log()
    finally:
        server.stop()
