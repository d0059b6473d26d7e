"""The tester CLIs (spec A.1, A.2) against real servers, through their installed console scripts.

* ``seldon-core-microservice-tester`` (and its alias ``seldon-core-tester``): contract.json -> random
  batches -> our SeldonClient -> our server (tests/models/InteropModel.py: identity predict,
  transform_input doubles), over REST and gRPC, ndarray and tensor, predict / transform-input /
  send-feedback. The printed responses are parsed and checked against the printed requests.
* ``seldon-core-api-tester``: REST through a small fake ingress on 127.0.0.1 that only knows
  ``/seldon/<namespace>/<deployment>/api/v1.0/{predictions,feedback}`` and forwards them to our
  server's ``/api/v1.0/...``; gRPC straight to our server's ``seldon.protos.Seldon`` service.
* contract handling: repeat, ranges with "inf", INT rounding, categorical values, shape, errors.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from google.protobuf import text_format

from seldon_core import microservice_tester as mt
from seldon_wrapper.proto import prediction_pb2
from tests.conftest import BIN_DIR, module_server, start_server
from tests.e2e.grpc_helpers import grpc_channel

MICRO_TESTER = str(BIN_DIR / "seldon-core-microservice-tester")
TESTER_ALIAS = str(BIN_DIR / "seldon-core-tester")
API_TESTER = str(BIN_DIR / "seldon-core-api-tester")

CONTRACT = {
    "features": [
        {"name": "sepal", "dtype": "FLOAT", "ftype": "continuous", "range": [0, 1]},
        {"name": "count", "dtype": "INT", "ftype": "continuous", "range": [1, 10]},
        {"name": "pos", "dtype": "FLOAT", "ftype": "continuous", "range": [2, "inf"], "repeat": 2},
        {"name": "neg", "dtype": "FLOAT", "ftype": "continuous", "range": ["inf", -1]},
    ],
    "targets": [{"name": "proba", "dtype": "FLOAT", "ftype": "continuous", "range": [0, 1], "repeat": 3}],
}
WIDTH = 5  # sepal, count, pos1, pos2, neg

CATEGORICAL_CONTRACT = {
    "features": [
        {"name": "colour", "dtype": "STRING", "ftype": "categorical", "values": ["red", "green", "blue"]},
        {"name": "size", "dtype": "FLOAT", "ftype": "continuous", "range": [10, 20]},
    ],
    "targets": [{"name": "class", "dtype": "FLOAT", "ftype": "continuous", "range": [0, 1]}],
}

interop = module_server("InteropModel")


@pytest.fixture(scope="module")
def server(interop):
    with grpc_channel(interop):  # gRPC health SERVING before any gRPC call
        pass
    return interop


@pytest.fixture(scope="module")
def contract_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("contracts") / "contract.json"
    path.write_text(json.dumps(CONTRACT))
    return str(path)


def run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd="/")


# -- reading what the testers print -----------------------------------------------------------------

NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def sent_batches(stdout: str) -> list[np.ndarray]:
    """The numeric batches printed after ``SENDING NEW REQUEST:`` (numpy's print format)."""
    batches = []
    for chunk in stdout.split("SENDING NEW REQUEST:\n")[1:]:
        printed = chunk.split("RECEIVED RESPONSE:")[0]
        rows = [row for row in printed.strip().split("\n") if row.strip()]
        batches.append(np.array([[float(x) for x in NUMBER.findall(row)] for row in rows]))
    return batches


def received_messages(stdout: str) -> list:
    """The SeldonMessages printed (protobuf text format) after ``RECEIVED RESPONSE:``."""
    messages = []
    for chunk in stdout.split("RECEIVED RESPONSE:\n")[1:]:
        text = chunk.split("\n\n")[0]
        assert text != "None", stdout
        messages.append(text_format.Parse(text, prediction_pb2.SeldonMessage()))
    return messages


def received_feedback(stdout: str) -> list[tuple]:
    """(request Feedback, response SeldonMessage) of each printed SeldonClientFeedback."""
    out = []
    for chunk in stdout.split("RECEIVED RESPONSE:\n")[1:]:
        assert chunk.startswith("Success:True message:\n"), chunk
        request_text, response_text = chunk.split("\nRequest:\n", 1)[1].split("\nResponse:\n", 1)
        request = text_format.Parse(request_text, prediction_pb2.Feedback())
        response = text_format.Parse(response_text.split("\n\n")[0], prediction_pb2.SeldonMessage())
        out.append((request, response))
    return out


def values(message) -> np.ndarray:
    data = message.data
    kind = data.WhichOneof("data_oneof")
    if kind == "tensor":
        return np.array(data.tensor.values).reshape(list(data.tensor.shape))
    assert kind == "ndarray", message
    return np.array([[v.number_value for v in row.list_value.values] for row in data.ndarray.values])


def check_ranges(batch: np.ndarray) -> None:
    assert batch.shape[1] == WIDTH
    sepal, count, pos1, pos2, neg = batch.T
    assert ((0 <= sepal) & (sepal <= 1)).all()
    assert ((1 <= count) & (count <= 10)).all() and (count == np.round(count)).all()
    assert (pos1 >= 2).all() and (pos2 >= 2).all()
    assert (neg <= -1).all()


# =================================================================================================
# seldon-core-microservice-tester
# =================================================================================================


@pytest.mark.parametrize("transport", ["rest", "grpc"])
@pytest.mark.parametrize("tensor", [False, True], ids=["ndarray", "tensor"])
@pytest.mark.parametrize("endpoint", ["predict", "transform-input"])
def test_microservice_tester(server, contract_file, transport, tensor, endpoint):
    port = server.http_port if transport == "rest" else server.grpc_port
    argv = [MICRO_TESTER, contract_file, "127.0.0.1", str(port), "-n", "3", "-b", "2", "-p"]
    argv += (
        ["--endpoint", endpoint] + (["--grpc"] if transport == "grpc" else []) + (["-t"] if tensor else [])
    )
    proc = run(*argv)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    batches, messages = sent_batches(proc.stdout), received_messages(proc.stdout)
    assert len(batches) == len(messages) == 3, proc.stdout
    factor = 2 if endpoint == "transform-input" else 1
    for batch, message in zip(batches, messages, strict=True):
        assert batch.shape == (2, WIDTH)
        check_ranges(batch)
        assert message.data.WhichOneof("data_oneof") == ("tensor" if tensor else "ndarray")
        assert list(message.data.names) == [f"t:{i}" for i in range(WIDTH)]
        np.testing.assert_allclose(values(message), batch * factor, rtol=0, atol=1e-9)


def test_tester_alias_and_quiet_default(server, contract_file):
    """``seldon-core-tester`` is the same program; without ``-p`` nothing is printed."""
    proc = run(TESTER_ALIAS, contract_file, "127.0.0.1", str(server.http_port), "-n", "2")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_microservice_tester_send_feedback(server, contract_file, transport):
    port = server.http_port if transport == "rest" else server.grpc_port
    argv = [MICRO_TESTER, contract_file, "127.0.0.1", str(port), "--endpoint", "send-feedback"]
    argv += ["-n", "3", "-b", "2", "-p"] + (["--grpc"] if transport == "grpc" else [])
    proc = run(*argv)
    assert proc.returncode == 0, proc.stderr
    feedbacks = received_feedback(proc.stdout)
    assert len(feedbacks) == 3
    for request, response in feedbacks:
        assert request.reward == 1.0
        sent = values(request.request)
        assert sent.shape == (2, WIDTH)
        check_ranges(sent)
        # the previous prediction's response travels with the feedback: the identity model's answer
        np.testing.assert_allclose(values(request.response), sent, rtol=0, atol=1e-9)
        assert response.data.WhichOneof("data_oneof") == "ndarray"  # send_feedback returned []


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_feedback_reaches_the_model(module_tmp, contract_file, transport):
    """The model's send_feedback gets the batch the tester sent and reward 1.0."""
    record = module_tmp / f"fb-{transport}.json"
    parameters = [{"name": "record_path", "value": str(record), "type": "STRING"}]
    fb_server = start_server(
        "E2eFeedback", tmp_path=module_tmp, env={"PREDICTIVE_UNIT_PARAMETERS": json.dumps(parameters)}
    )
    try:
        with grpc_channel(fb_server):
            pass
        port = fb_server.http_port if transport == "rest" else fb_server.grpc_port
        argv = [MICRO_TESTER, contract_file, "127.0.0.1", str(port), "--endpoint", "send-feedback", "-b", "3"]
        argv += ["-p", "-t"] + (["--grpc"] if transport == "grpc" else [])
        proc = run(*argv)
        assert proc.returncode == 0, proc.stderr
        [(request, _)] = received_feedback(proc.stdout)
        got = json.loads(record.read_text())
        assert got["reward"] == 1.0
        assert np.array(got["features"]).shape == (3, WIDTH)
        np.testing.assert_allclose(got["features"], values(request.request), rtol=0, atol=1e-9)
    finally:
        fb_server.stop()


def test_microservice_tester_categorical_contract(server, tmp_path):
    contract = tmp_path / "categorical.json"
    contract.write_text(json.dumps(CATEGORICAL_CONTRACT))
    proc = run(MICRO_TESTER, str(contract), "127.0.0.1", str(server.http_port), "-b", "4", "-p")
    assert proc.returncode == 0, proc.stderr
    [message] = received_messages(proc.stdout)
    [batch] = proc.stdout.split("SENDING NEW REQUEST:\n")[1:]
    assert batch.count("'red'") + batch.count("'green'") + batch.count("'blue'") == 4, batch
    # The wrapper reads a mixed ndarray as numpy does (np.array([["red", 12.5]]) is all strings), so
    # the identity model answers strings (as the original wrapper does).
    assert len(message.data.ndarray.values) == 4
    for row in message.data.ndarray.values:
        colour, size = row.list_value.values
        assert colour.string_value in ("red", "green", "blue")
        assert 10 <= float(size.string_value) <= 20


def test_microservice_tester_reports_failures_cleanly(server, contract_file, tmp_path):
    # nothing listens on the port: REST
    refused = run(MICRO_TESTER, contract_file, "127.0.0.1", str(_closed_port()), "-p")
    assert refused.returncode == 1
    assert "ConnectionError" in refused.stderr and "Traceback" not in refused.stderr
    # nothing listens on the port: gRPC (the client reports, the tester counts)
    refused = run(MICRO_TESTER, contract_file, "127.0.0.1", str(_closed_port()), "--grpc", "-n", "2")
    assert refused.returncode == 1
    assert "2 of 2 calls failed" in refused.stderr and "UNAVAILABLE" in refused.stderr
    # a contract the tester cannot generate
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"features": [{"name": "x", "dtype": "FLOAT", "ftype": "ordinal"}], "targets": []})
    )
    proc = run(MICRO_TESTER, str(bad), "127.0.0.1", str(server.http_port))
    assert proc.returncode == 1
    assert "Unknown feature type ordinal" in proc.stderr and "Traceback" not in proc.stderr
    # argparse: unknown endpoint
    proc = run(MICRO_TESTER, contract_file, "127.0.0.1", str(server.http_port), "--endpoint", "route")
    assert proc.returncode == 2 and "invalid choice: 'route'" in proc.stderr


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# =================================================================================================
# seldon-core-api-tester
# =================================================================================================


@pytest.fixture
def gateway(server):
    """A fake ingress: ``/seldon/[ns/]mymodel/api/v1.0/<x>`` -> our server's ``/api/v1.0/<x>``."""
    seen: list[dict] = []
    route = re.compile(r"^/seldon/(?:(?P<ns>[^/]+)/)?mymodel(?P<api>/api/v1\.0/(?:predictions|feedback))$")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "body": body})
            match = route.match(self.path)
            if match is None:
                status, answer = 404, b'{"error": "no such deployment"}'
            else:
                forward = urllib.request.Request(
                    server.url + match["api"], data=body, headers={"Content-Type": "application/json"}
                )
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                try:
                    with opener.open(forward, timeout=10) as upstream:
                        status, answer = upstream.status, upstream.read()
                except urllib.error.HTTPError as exc:
                    status, answer = exc.code, exc.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield {"port": httpd.server_address[1], "seen": seen}
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def received_dicts(stdout: str) -> list:
    """Gateway answers are printed as Python dicts (client_return_type "dict")."""
    return [ast.literal_eval(chunk.split("\n\n")[0]) for chunk in stdout.split("RECEIVED RESPONSE:\n")[1:]]


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        (["--namespace", "prod"], "/seldon/prod/mymodel/api/v1.0/predictions"),
        ([], "/seldon/mymodel/api/v1.0/predictions"),
        (["-t"], "/seldon/mymodel/api/v1.0/predictions"),
    ],
    ids=["namespace", "default-deployment", "tensor"],
)
def test_api_tester_rest_through_gateway(gateway, contract_file, extra, path):
    argv = [API_TESTER, contract_file, "127.0.0.1", str(gateway["port"])]
    proc = run(*argv, *(["mymodel"] if "-t" in extra else []), "-n", "2", "-b", "3", "-p", *extra)
    assert proc.returncode == 0, proc.stderr
    assert [seen["path"] for seen in gateway["seen"]] == [path, path]
    kind = "tensor" if "-t" in extra else "ndarray"
    for seen in gateway["seen"]:
        assert seen["content_type"] == "application/json"
        body = json.loads(seen["body"])
        assert body["data"]["names"] == ["sepal", "count", "pos1", "pos2", "neg"]
        assert kind in body["data"]
    batches, answers = sent_batches(proc.stdout), received_dicts(proc.stdout)
    assert len(answers) == 2
    for batch, answer in zip(batches, answers, strict=True):
        check_ranges(batch)
        got = answer["data"][kind]
        got = np.array(got["values"]).reshape(got["shape"]) if kind == "tensor" else np.array(got)
        np.testing.assert_allclose(got, batch, rtol=0, atol=1e-9)


def test_api_tester_send_feedback_through_gateway(gateway, contract_file):
    proc = run(
        API_TESTER, contract_file, "127.0.0.1", str(gateway["port"]), "mymodel", "--namespace", "ns",
        "--endpoint", "send-feedback", "-n", "2", "-p",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    paths = [seen["path"] for seen in gateway["seen"]]
    assert paths == ["/seldon/ns/mymodel/api/v1.0/predictions", "/seldon/ns/mymodel/api/v1.0/feedback"] * 2
    feedback = json.loads(gateway["seen"][1]["body"])
    assert feedback["reward"] == 1.0
    assert feedback["request"]["data"] == json.loads(gateway["seen"][0]["body"])["data"]
    assert "data" in feedback["response"]
    assert proc.stdout.count("Success:True") == 2


def test_api_tester_grpc_to_the_seldon_service(server, contract_file):
    argv = [
        API_TESTER,
        contract_file,
        "127.0.0.1",
        str(server.grpc_port),
        "--grpc",
        "-n",
        "2",
        "-b",
        "2",
        "-p",
    ]
    proc = run(*argv)
    assert proc.returncode == 0, proc.stderr
    batches, answers = sent_batches(proc.stdout), received_dicts(proc.stdout)
    assert len(answers) == 2
    for batch, answer in zip(batches, answers, strict=True):
        np.testing.assert_allclose(answer["data"]["ndarray"], batch, rtol=0, atol=1e-9)
    proc = run(*argv[:4], "--grpc", "--endpoint", "send-feedback", "-p")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("Success:True") == 1


def test_api_tester_reports_failures_cleanly(gateway, contract_file):
    # The gateway does not know this deployment: 404 for every call.
    proc = run(API_TESTER, contract_file, "127.0.0.1", str(gateway["port"]), "other", "-n", "2")
    assert proc.returncode == 1
    assert [seen["path"] for seen in gateway["seen"]] == ["/seldon/other/api/v1.0/predictions"] * 2
    assert "404:Not Found" in proc.stderr and "2 of 2 calls failed" in proc.stderr
    # Nothing listens.
    proc = run(API_TESTER, contract_file, "127.0.0.1", str(_closed_port()))
    assert proc.returncode == 1 and "ConnectionError" in proc.stderr and "Traceback" not in proc.stderr
    # argparse
    proc = run(API_TESTER, contract_file, "127.0.0.1", "not-a-port")
    assert proc.returncode == 2 and "invalid int value" in proc.stderr


def test_api_tester_arguments():
    from seldon_core import api_tester

    args = api_tester.build_parser().parse_args(["c.json", "h", "8080"])
    assert (args.deployment, args.namespace, args.endpoint, args.batch_size, args.n_requests) == (
        "mymodel",
        None,
        "predict",
        1,
        1,
    )
    assert (args.grpc, args.tensor, args.prnt, args.log_level) == (False, False, False, "ERROR")
    args = api_tester.build_parser().parse_args(["c.json", "h", "1", "dep", "--namespace", "n", "--grpc"])
    client = api_tester.get_seldon_client(args)
    assert client.config["gateway"] == "ambassador" and client.config["gateway_endpoint"] == "h:1"
    assert (client.config["deployment_name"], client.config["namespace"], client.config["transport"]) == (
        "dep",
        "n",
        "grpc",
    )


# =================================================================================================
# contract handling (pure functions)
# =================================================================================================


def test_unfold_contract_repeats():
    unfolded = mt.unfold_contract(CONTRACT)
    assert [f["name"] for f in unfolded["features"]] == ["sepal", "count", "pos1", "pos2", "neg"]
    assert [t["name"] for t in unfolded["targets"]] == ["proba:0", "proba:1", "proba:2"]
    assert all("repeat" not in f for f in unfolded["features"] + unfolded["targets"])
    assert mt.get_class_names(unfolded) == ["sepal", "count", "pos1", "pos2", "neg"]


def test_generate_batch_shapes_types_and_targets():
    unfolded = mt.unfold_contract(CONTRACT)
    batch = mt.generate_batch(unfolded, 50, "features")
    assert batch.shape == (50, WIDTH) and batch.dtype == np.float64
    check_ranges(batch)
    assert (np.round(batch, 3) == batch).all()
    targets = mt.generate_batch(unfolded, 7, "targets")
    assert targets.shape == (7, 3) and ((targets >= 0) & (targets <= 1)).all()
    mixed = mt.generate_batch(mt.unfold_contract(CATEGORICAL_CONTRACT), 5, "features")
    assert mixed.shape == (5, 2) and mixed.dtype == object
    assert set(mixed[:, 0]) <= {"red", "green", "blue"}
    shaped = {
        "features": [{"name": "img", "dtype": "FLOAT", "ftype": "continuous", "shape": [3]}],
        "targets": [],
    }
    assert mt.generate_batch(shaped, 4, "features").shape == (4, 3)
    unbounded = mt.gen_continuous(["inf", "inf"], [1000])
    assert unbounded.min() < 0 < unbounded.max()


def test_contract_errors():
    with pytest.raises(mt.SeldonTesterException, match="Unknown dtype"):
        mt.reconciliate_cont_type(np.array([1.0]), "DOUBLE")
    with pytest.raises(mt.SeldonTesterException, match="Unknown feature type"):
        mt.generate_batch({"features": [{"name": "x", "ftype": "binary"}]}, 1, "features")
    assert mt.reconciliate_cont_type(np.array([1.4, 1.6]), "INT").tolist() == [1.0, 2.0]
