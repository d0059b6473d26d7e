"""``seldon_core.seldon_client``: validation, URLs, headers, bodies and result shapes.

Requests go to small real servers on 127.0.0.1 that record what arrives (an HTTP server in a thread
and an in-process gRPC ``seldon.protos.Seldon`` servicer); no mocking library.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import threading
import urllib.parse
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import numpy as np
import pytest
import requests
from google.protobuf import json_format

from seldon_core import seldon_client as sc
from seldon_core.seldon_client import (
    SeldonCallCredentials,
    SeldonChannelCredentials,
    SeldonClient,
    SeldonClientCombine,
    SeldonClientException,
    SeldonClientFeedback,
    SeldonClientPrediction,
)
from seldon_wrapper.proto import prediction_pb2, prediction_pb2_grpc

ANSWER = {"meta": {"puid": "abc"}, "data": {"names": ["t:0"], "ndarray": [[1.0]]}}


# -- a recording HTTP server ----------------------------------------------------------------------


class Recorder:
    """What the HTTP server received, and what it answers next (status, body)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.body: bytes = json.dumps(ANSWER).encode()

    @property
    def last(self) -> dict:
        assert self.requests, "the server received no request"
        return self.requests[-1]


@pytest.fixture
def http_server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            recorder.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(recorder.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(recorder.body)))
            self.end_headers()
            self.wfile.write(recorder.body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    recorder.endpoint = f"127.0.0.1:{server.server_address[1]}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def json_body(record: dict) -> dict:
    assert record["headers"]["Content-Type"] == "application/json"
    return json.loads(record["body"])


def form_body(record: dict) -> dict:
    assert record["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    fields = urllib.parse.parse_qs(record["body"].decode(), strict_parsing=True)
    assert list(fields) == ["json"] and len(fields["json"]) == 1
    return json.loads(fields["json"][0])


# -- a recording gRPC Seldon service ----------------------------------------------------------------


class RecordingSeldon(prediction_pb2_grpc.SeldonServicer):
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def Predict(self, request, context):  # noqa: N802 - generated service naming
        self.calls.append(("Predict", request, dict(context.invocation_metadata())))
        return json_format.ParseDict(ANSWER, prediction_pb2.SeldonMessage())

    def SendFeedback(self, request, context):  # noqa: N802
        self.calls.append(("SendFeedback", request, dict(context.invocation_metadata())))
        return prediction_pb2.SeldonMessage(strData="thanks")


@pytest.fixture
def grpc_server():
    servicer = RecordingSeldon()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_pb2_grpc.add_SeldonServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    servicer.endpoint = f"127.0.0.1:{port}"
    try:
        yield servicer
    finally:
        server.stop(grace=None).wait(5)


# =================================================================================================
# constructor, validation, result classes
# =================================================================================================


def test_constructor_parameters_and_defaults():
    params = inspect.signature(SeldonClient.__init__).parameters
    defaults = {name: p.default for name, p in params.items() if name != "self"}
    assert defaults == {
        "gateway": "ambassador",
        "transport": "rest",
        "namespace": None,
        "deployment_name": None,
        "payload_type": "tensor",
        "gateway_endpoint": "localhost:8003",
        "microservice_endpoint": "localhost:5000",
        "grpc_max_send_message_length": 4 * 1024 * 1024,
        "grpc_max_receive_message_length": 4 * 1024 * 1024,
        "channel_credentials": None,
        "call_credentials": None,
        "debug": False,
        "client_return_type": "dict",
        "ssl": None,
    }
    client = SeldonClient(deployment_name="dep", transport="grpc")
    assert client.config["deployment_name"] == "dep" and client.config["transport"] == "grpc"
    assert client.config["gateway"] == "ambassador"


BAD_ARGS = [
    ({"gateway": "nginx"}, "gateway"),
    ({"transport": "http"}, "transport"),
    ({"method": "explain"}, "method"),
    ({"payload_type": "json"}, "payload_type"),
    ({"client_return_type": "xml"}, "client_return_type"),
    ({"data": [[1, 2]]}, "data"),
]


@pytest.mark.parametrize(("kwargs", "word"), BAD_ARGS, ids=[word for _, word in BAD_ARGS])
def test_invalid_call_arguments_raise_seldon_client_exception(kwargs, word):
    with pytest.raises(SeldonClientException) as info:
        SeldonClient(deployment_name="d").predict(**kwargs)
    assert info.value.status_code == 400
    assert word in info.value.message
    assert str(info.value) == info.value.message


@pytest.mark.parametrize(
    ("kwargs", "word"), BAD_ARGS[:2] + BAD_ARGS[3:5], ids=["gateway", "transport", "payload", "crt"]
)
def test_invalid_constructor_arguments_fail_at_the_first_call(kwargs, word):
    client = SeldonClient(deployment_name="d", **kwargs)
    with pytest.raises(SeldonClientException, match=word) as info:
        client.predict()
    assert info.value.status_code == 400


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.microservice(method="predict", transport="smtp"),
        lambda c: c.microservice(method="bogus"),
        lambda c: c.microservice_feedback(transport="smtp"),
        lambda c: c.feedback(gateway="kong"),
        lambda c: c.explain(payload_type="csv"),
        lambda c: c.microservice(method="predict", data="1,2"),
    ],
    ids=[
        "microservice-transport",
        "microservice-method",
        "ms-feedback",
        "feedback-gateway",
        "explain-payload",
        "data",
    ],
)
def test_every_entry_point_validates(call):
    with pytest.raises(SeldonClientException) as info:
        call(SeldonClient(deployment_name="d"))
    assert info.value.status_code == 400


def test_microservice_without_a_method_or_aggregate_data_is_an_error():
    client = SeldonClient(microservice_endpoint="127.0.0.1:1")
    with pytest.raises(SeldonClientException, match="Unknown method"):
        client.microservice()
    with pytest.raises(SeldonClientException, match="send-feedback"):
        client.microservice(method="send-feedback")
    with pytest.raises(SeldonClientException, match="datas or ndatas"):
        client.microservice(method="aggregate")


def test_explain_over_grpc_is_refused():
    with pytest.raises(SeldonClientException, match="gRPC not supported for explain"):
        SeldonClient(deployment_name="d").explain(transport="grpc", predictor="p")


@pytest.mark.parametrize("cls", [SeldonClientPrediction, SeldonClientFeedback, SeldonClientCombine])
def test_result_classes(cls):
    result = cls("REQ", "RESP")
    assert (result.request, result.response, result.success, result.msg) == ("REQ", "RESP", True, "")
    failed = cls(None, None, False, "boom")
    assert repr(failed) == "Success:False message:boom\nRequest:\nNone\nResponse:\nNone"


def test_import_is_light():
    """requests and grpc are imported only when a call needs them."""
    code = (
        "import sys, seldon_core.seldon_client as m; "
        "print(sorted(n for n in ('requests', 'grpc', 'tensorflow') if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out


# =================================================================================================
# gateway REST: URLs, headers, bodies, return types
# =================================================================================================


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"gateway": "ambassador", "namespace": "ns"}, "/seldon/ns/dep/api/v1.0/predictions"),
        ({"gateway": "istio", "namespace": "ns"}, "/seldon/ns/dep/api/v1.0/predictions"),
        ({"gateway": "ambassador"}, "/seldon/dep/api/v1.0/predictions"),
        ({"gateway": "istio", "gateway_prefix": "/models/x"}, "/models/x/api/v1.0/predictions"),
        ({"gateway": "ambassador", "namespace": "ns", "gateway_prefix": "/p"}, "/p/api/v1.0/predictions"),
        (
            {"gateway": "ambassador", "namespace": "ns", "http_path": "/custom/path"},
            "/seldon/ns/dep/custom/path",
        ),
        ({"gateway": "seldon", "namespace": "ns"}, "/api/v1.0/predictions"),
    ],
    ids=[
        "ambassador-ns",
        "istio-ns",
        "no-namespace",
        "prefix",
        "prefix-over-namespace",
        "http_path",
        "seldon",
    ],
)
def test_predict_rest_urls(http_server, kwargs, path):
    client = SeldonClient(deployment_name="dep", gateway_endpoint=http_server.endpoint)
    result = client.predict(data=np.array([[1.0, 2.0]]), **kwargs)
    assert http_server.last["path"] == path
    assert result.success and result.msg == ""
    assert result.response == ANSWER  # client_return_type "dict" (the default): the raw JSON


def test_predict_rest_body_headers_and_token(http_server):
    client = SeldonClient(
        deployment_name="dep",
        namespace="ns",
        gateway_endpoint=http_server.endpoint,
        call_credentials=SeldonCallCredentials(token="s3cret"),
        ssl=False,  # the token alone would switch to https
    )
    result = client.predict(
        data=np.array([[1.0, 2.0]]),
        names=["a", "b"],
        headers={"X-Custom": "yes"},
        meta={"experiment": "e1"},
        payload_type="ndarray",
    )
    record = http_server.last
    assert record["headers"]["X-Custom"] == "yes"
    assert record["headers"]["X-Auth-Token"] == "s3cret"
    assert json_body(record) == {
        "meta": {"tags": {"experiment": "e1"}},
        "data": {"names": ["a", "b"], "ndarray": [[1.0, 2.0]]},
    }
    assert isinstance(result.request, prediction_pb2.SeldonMessage)
    assert result.request.meta.tags["experiment"].string_value == "e1"


def test_call_credentials_switch_to_https(http_server):
    """With a token and ssl unset the client speaks TLS, which this plain HTTP server cannot answer."""
    client = SeldonClient(
        deployment_name="dep",
        gateway_endpoint=http_server.endpoint,
        call_credentials=SeldonCallCredentials(token="t"),
        channel_credentials=SeldonChannelCredentials(verify=False),
    )
    with pytest.raises(requests.exceptions.SSLError):
        client.predict()
    # ssl=True forces https even without a token.
    with pytest.raises(requests.exceptions.SSLError):
        SeldonClient(deployment_name="dep", gateway_endpoint=http_server.endpoint, ssl=True).predict()


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"payload_type": "tensor", "data": np.array([[1.0, 2.0]])},
            {"data": {"tensor": {"shape": [1, 2], "values": [1.0, 2.0]}}},
        ),
        ({"payload_type": "ndarray", "data": np.array([[1, 2]])}, {"data": {"ndarray": [[1.0, 2.0]]}}),
        ({"bin_data": b"\x00\x01", "str_data": "ignored"}, {"binData": "AAE="}),
        ({"str_data": "hi", "json_data": {"ignored": 1}}, {"strData": "hi"}),
        ({"json_data": {"a": [1, 2]}, "data": np.array([[9.0]])}, {"jsonData": {"a": [1.0, 2.0]}}),
    ],
    ids=["tensor", "ndarray", "bin-over-str", "str-over-json", "json-over-data"],
)
def test_gateway_payloads_and_precedence(http_server, kwargs, expected):
    client = SeldonClient(deployment_name="dep", gateway_endpoint=http_server.endpoint)
    client.predict(**kwargs)
    body = json_body(http_server.last)
    if "jsonData" not in expected:
        assert body.pop("meta") == {}
    assert body == expected


def test_gateway_tftensor_without_tensorflow(http_server):
    client = SeldonClient(
        deployment_name="dep", gateway_endpoint=http_server.endpoint, payload_type="tftensor"
    )
    client.predict(data=np.array([[1.5, -2.0]], dtype=np.float32))
    tensor = json_body(http_server.last)["data"]["tftensor"]
    assert tensor["dtype"] == "DT_FLOAT"
    assert tensor["tensorShape"] == {"dim": [{"size": "1"}, {"size": "2"}]}
    content = np.frombuffer(
        json_format.ParseDict(tensor, prediction_pb2.DefaultData().tftensor).tensor_content, "<f4"
    )
    assert content.tolist() == [1.5, -2.0]


def test_raw_data_is_sent_verbatim(http_server):
    raw = {"data": {"ndarray": [[1, "x"]]}, "meta": {"tags": {"k": "v"}}}
    client = SeldonClient(deployment_name="dep", gateway_endpoint=http_server.endpoint)
    result = client.predict(raw_data=raw, gateway="seldon")
    assert json_body(http_server.last) == raw
    assert result.request == json_format.ParseDict(raw, prediction_pb2.SeldonMessage())


def test_random_data_of_the_given_shape(http_server):
    SeldonClient(deployment_name="dep", gateway_endpoint=http_server.endpoint).predict(shape=(3, 2))
    tensor = json_body(http_server.last)["data"]["tensor"]
    assert tensor["shape"] == [3, 2] and len(tensor["values"]) == 6


def test_proto_return_type_and_failures(http_server):
    client = SeldonClient(
        deployment_name="dep", gateway_endpoint=http_server.endpoint, client_return_type="proto"
    )
    result = client.predict()
    assert result.response == json_format.ParseDict(ANSWER, prediction_pb2.SeldonMessage())
    http_server.status = 503
    http_server.body = b'{"status": {"code": -1, "info": "down", "status": "FAILURE"}}'
    result = client.predict()
    assert not result.success
    assert result.msg == "503:Service Unavailable"
    assert result.response.status.info == "down"
    http_server.status = 200
    http_server.body = b""
    result = client.predict()
    assert result.success and result.response is None


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"namespace": "ns"}, "/seldon/ns/dep/api/v1.0/feedback"),
        ({}, "/seldon/dep/api/v1.0/feedback"),
        ({"gateway_prefix": "/pre"}, "/pre/api/v1.0/feedback"),
        ({"gateway": "seldon"}, "/api/v1.0/feedback"),
    ],
    ids=["namespace", "no-namespace", "prefix", "seldon"],
)
def test_feedback_rest_urls_and_body(http_server, kwargs, path):
    client = SeldonClient(deployment_name="dep", gateway_endpoint=http_server.endpoint)
    request = prediction_pb2.SeldonMessage(strData="q")
    result = client.feedback(
        prediction_request=request,
        prediction_response=ANSWER,  # a dict, as predict returns with client_return_type="dict"
        prediction_truth=prediction_pb2.SeldonMessage(strData="truth"),
        reward=0.5,
        **kwargs,
    )
    assert http_server.last["path"] == path
    assert json_body(http_server.last) == {
        "request": {"strData": "q"},
        "response": ANSWER,
        "reward": 0.5,
        "truth": {"strData": "truth"},
    }
    assert isinstance(result, SeldonClientFeedback) and isinstance(result.request, prediction_pb2.Feedback)
    assert result.success and result.response == ANSWER


def test_feedback_raw_request(http_server):
    raw = {"reward": 1.0, "request": {"strData": "x"}}
    SeldonClient(deployment_name="dep", gateway_endpoint=http_server.endpoint).feedback(raw_request=raw)
    assert json_body(http_server.last) == raw


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"namespace": "ns", "predictor": "default"}, "/seldon/ns/dep-explainer/default/api/v1.0/explain"),
        ({"predictor": "default"}, "/seldon/dep-explainer/default/api/v1.0/explain"),
        ({"gateway": "seldon"}, "/api/v1.0/explain"),
        ({"gateway_prefix": "/x"}, "/x/api/v1.0/explain"),
    ],
    ids=["namespace", "no-namespace", "seldon", "prefix"],
)
def test_explain_urls(http_server, kwargs, path):
    client = SeldonClient(deployment_name="dep", gateway_endpoint=http_server.endpoint)
    result = client.explain(data=np.array([[1.0]]), **kwargs)
    assert http_server.last["path"] == path
    assert result.success and result.response == ANSWER
    assert result.request == json_body(http_server.last)


def test_explain_needs_a_predictor_and_reports_failures(http_server):
    client = SeldonClient(deployment_name="dep", gateway_endpoint=http_server.endpoint)
    with pytest.raises(SeldonClientException, match="Predictor"):
        client.explain()
    http_server.status = 404
    result = client.explain(predictor="p")
    assert not result.success and result.msg == "Unsuccessful request with status code: 404"


# =================================================================================================
# microservice REST: urlencoded json= form posts to the bare method paths
# =================================================================================================


@pytest.mark.parametrize("method", ["predict", "transform-input", "transform-output", "route"])
def test_microservice_rest_form_post(http_server, method):
    client = SeldonClient(microservice_endpoint=http_server.endpoint)
    result = client.microservice(
        method=method, data=np.array([[1, 2]]), payload_type="ndarray", names=["a", "b"]
    )
    assert http_server.last["path"] == f"/{method}"
    assert form_body(http_server.last) == {"data": {"names": ["a", "b"], "ndarray": [[1.0, 2.0]]}}
    # microservice answers are always protos, whatever client_return_type says
    assert result.response == json_format.ParseDict(ANSWER, prediction_pb2.SeldonMessage())
    assert result.success and result.msg == ""


def test_microservice_rest_aggregate_and_feedback(http_server):
    client = SeldonClient(microservice_endpoint=http_server.endpoint)
    result = client.microservice(
        method="aggregate", datas=[b"\x01", "s", np.array([[1.0]])], payload_type="tensor"
    )
    assert http_server.last["path"] == "/aggregate"
    assert form_body(http_server.last) == {
        "seldonMessages": [
            {"binData": "AQ=="},
            {"strData": "s"},
            {"data": {"tensor": {"shape": [1, 1], "values": [1.0]}}},
        ]
    }
    assert isinstance(result, SeldonClientCombine) and result.success
    result = client.microservice(method="aggregate", ndatas=3, shape=(1, 4))
    messages = form_body(http_server.last)["seldonMessages"]
    assert [m["data"]["tensor"]["shape"] for m in messages] == [[1, 4]] * 3

    feedback = client.microservice_feedback(
        prediction_request=prediction_pb2.SeldonMessage(strData="q"), prediction_response=None, reward=2.0
    )
    assert http_server.last["path"] == "/send-feedback"
    assert form_body(http_server.last) == {"request": {"strData": "q"}, "reward": 2.0}
    assert feedback.success


def test_microservice_rest_errors(http_server):
    client = SeldonClient(microservice_endpoint=http_server.endpoint)
    http_server.status = 400
    http_server.body = (
        b'{"status": {"code": -1, "info": "bad", "reason": "MICROSERVICE_BAD_DATA", "status": "FAILURE"}}'
    )
    result = client.microservice(method="predict")
    assert (result.success, result.msg) == (False, "Bad Request")
    assert result.response.status.info == "bad"
    # An answer that is not a SeldonMessage: no response, the parse error in msg.
    http_server.status = 200
    http_server.body = b'{"unexpected": 1}'
    result = client.microservice(method="predict")
    assert result.success and result.response is None
    assert "unexpected" in result.msg


# =================================================================================================
# gateway gRPC: Seldon service, metadata, return types
# =================================================================================================


def test_grpc_gateway_metadata_and_dict_return(grpc_server):
    client = SeldonClient(
        transport="grpc",
        deployment_name="dep",
        namespace="ns",
        gateway_endpoint=grpc_server.endpoint,
        call_credentials=SeldonCallCredentials(token="tok"),
    )
    result = client.predict(data=np.array([[1.0]]), headers={"x-extra": "1"}, meta={"m": "v"})
    name, request, metadata = grpc_server.calls[-1]
    assert name == "Predict"
    assert metadata["seldon"] == "dep" and metadata["namespace"] == "ns"
    assert metadata["x-extra"] == "1" and metadata["x-auth-token"] == "tok"
    assert json_format.MessageToDict(request) == {
        "meta": {"tags": {"m": "v"}},
        "data": {"tensor": {"shape": [1, 1], "values": [1.0]}},
    }
    # client_return_type "dict": request and response as proto JSON
    assert result.success and result.response == ANSWER
    assert result.request == json_format.MessageToDict(request)

    proto = client.predict(client_return_type="proto", namespace=None, custom_data=None, str_data="s")
    assert proto.response == json_format.ParseDict(ANSWER, prediction_pb2.SeldonMessage())
    assert "namespace" in grpc_server.calls[-1][2]  # the constructor's namespace still applies


def test_grpc_gateway_without_namespace_and_feedback(grpc_server):
    client = SeldonClient(transport="grpc", deployment_name="dep", gateway_endpoint=grpc_server.endpoint)
    client.predict(str_data="x")
    assert "namespace" not in grpc_server.calls[-1][2]
    result = client.feedback(prediction_request=prediction_pb2.SeldonMessage(strData="x"), reward=1.0)
    name, request, metadata = grpc_server.calls[-1]
    assert name == "SendFeedback" and metadata["seldon"] == "dep"
    assert request.reward == 1.0 and request.request.strData == "x"
    assert result.success and result.response == {"strData": "thanks"}


def test_grpc_seldon_gateway(grpc_server):
    client = SeldonClient(gateway="seldon", transport="grpc", gateway_endpoint=grpc_server.endpoint)
    result = client.predict(raw_data={"strData": "raw"}, client_return_type="proto")
    assert grpc_server.calls[-1][1].strData == "raw"
    assert isinstance(result.response, prediction_pb2.SeldonMessage)
    result = client.feedback(raw_request={"reward": 3.0})
    assert grpc_server.calls[-1][0] == "SendFeedback" and grpc_server.calls[-1][1].reward == 3.0
    assert result.response == {"strData": "thanks"}


def test_grpc_failure_is_reported_not_raised():
    port = _closed_port()
    client = SeldonClient(transport="grpc", deployment_name="dep", gateway_endpoint=f"127.0.0.1:{port}")
    result = client.predict(str_data="x")
    assert not result.success and result.response is None
    assert "UNAVAILABLE" in result.msg
    micro = SeldonClient(transport="grpc", microservice_endpoint=f"127.0.0.1:{port}").microservice(
        method="route"
    )
    assert not micro.success and "UNAVAILABLE" in micro.msg


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_public_helpers_exist_with_their_defaults():
    """The module-level helpers users call directly, with the original's endpoint defaults."""
    expected = {
        "microservice_api_rest_seldon_message": "localhost:5000",
        "microservice_api_rest_aggregate": "localhost:5000",
        "microservice_api_grpc_seldon_message": "localhost:5000",
        "microservice_api_grpc_aggregate": "localhost:5000",
        "rest_predict_seldon": "localhost:8002",
        "grpc_predict_seldon": "localhost:8004",
        "rest_predict_gateway": "localhost:8003",
        "grpc_predict_gateway": "localhost:8003",
        "explain_predict_gateway": "localhost:8003",
        "rest_feedback_seldon": "localhost:8002",
        "grpc_feedback_seldon": "localhost:8004",
        "rest_feedback_gateway": "localhost:8003",
        "grpc_feedback_gateway": "localhost:8003",
    }
    for name, endpoint in expected.items():
        params = inspect.signature(getattr(sc, name)).parameters
        key = "microservice_endpoint" if name.startswith("microservice") else "gateway_endpoint"
        assert params[key].default == endpoint, name
    for name in ("microservice_api_rest_feedback", "microservice_api_grpc_feedback"):
        assert list(inspect.signature(getattr(sc, name)).parameters)[:4] == [
            "prediction_request",
            "prediction_response",
            "reward",
            "microservice_endpoint",
        ]


def test_module_helper_called_directly(http_server):
    result = sc.rest_predict_gateway(
        "dep", namespace="ns", gateway_endpoint=http_server.endpoint, str_data="s"
    )
    assert http_server.last["path"] == "/seldon/ns/dep/api/v1.0/predictions"
    assert isinstance(result.response, prediction_pb2.SeldonMessage)  # the helper's default is "proto"


# =================================================================================================
# tests written against the original keep working: they patch ``requests.post``, the stubs through
# ``seldon_core.seldon_client.prediction_pb2_grpc`` and the module-level helpers (unittest.mock here
# is the subject under test, not a stand-in for a server)
# =================================================================================================


class CannedResponse:
    """What such tests return from a patched ``requests.post``: no ``headers``, ``text`` a stand-in."""

    def __init__(self, body, status_code=200, reason="OK", text="{}"):
        self.body, self.status_code, self.reason, self.text = body, status_code, reason, text

    def json(self):
        return self.body


class KeywordOnlyStub:
    """Stubs in such tests take the request as a keyword, as the original calls them."""

    def __init__(self, channel):
        self.channel = channel

    def Predict(self, **kwargs):  # noqa: N802
        assert set(kwargs) <= {"request", "metadata"}
        return prediction_pb2.SeldonMessage(strData=f"predict {sorted(kwargs)}")

    def Route(self, **kwargs):  # noqa: N802
        return prediction_pb2.SeldonMessage(strData="route")


def test_patched_requests_post():
    from unittest import mock

    with mock.patch("requests.post", return_value=CannedResponse(ANSWER)) as post:
        result = SeldonClient(deployment_name="m").predict(
            names=["a"], meta={"k": "v"}, client_return_type="proto"
        )
        assert post.call_args[0][0] == "http://localhost:8003/seldon/m/api/v1.0/predictions"
        assert post.call_args[1]["json"]["data"]["names"] == ["a"]
        assert post.call_args[1]["json"]["meta"]["tags"] == {"k": "v"}
        assert result.response.meta.puid == "abc"
        result = SeldonClient().microservice(method="predict", json_data={"x": 1.5})
        assert post.call_args[0][0] == "http://localhost:5000/predict"
        assert post.call_args[1]["data"]["json"] == json.dumps({"jsonData": {"x": 1.5}})
    with mock.patch("requests.post", return_value=CannedResponse(None, 404, "Not Found", "")):
        result = SeldonClient(deployment_name="m").predict()
        assert (result.success, result.msg, result.response) == (False, "404:Not Found", None)


def test_patched_stubs_and_helpers():
    from unittest import mock

    with mock.patch("seldon_core.seldon_client.prediction_pb2_grpc.SeldonStub", new=KeywordOnlyStub):
        result = SeldonClient(deployment_name="m", transport="grpc").predict(client_return_type="proto")
        assert result.success and result.response.strData == "predict ['metadata', 'request']"
        result = SeldonClient(transport="grpc", gateway="seldon").predict(client_return_type="proto")
        assert result.response.strData == "predict ['request']"
    with mock.patch("seldon_core.seldon_client.prediction_pb2_grpc.GenericStub", new=KeywordOnlyStub):
        assert SeldonClient(transport="grpc").microservice(method="route").response.strData == "route"
    with mock.patch("seldon_core.seldon_client.prediction_pb2_grpc") as stubs:
        stubs.ModelStub.return_value.Predict.return_value = prediction_pb2.SeldonMessage(
            strData="whole module"
        )
        assert (
            SeldonClient(transport="grpc").microservice(method="predict").response.strData == "whole module"
        )
    stand_in = SeldonClientPrediction(None, None)
    with mock.patch("seldon_core.seldon_client.rest_predict_gateway", return_value=stand_in) as helper:
        assert SeldonClient(deployment_name="m").predict() is stand_in
        assert helper.call_args[1]["deployment_name"] == "m"
    with mock.patch(
        "seldon_core.seldon_client.microservice_api_grpc_aggregate", return_value=stand_in
    ) as helper:
        assert SeldonClient(transport="grpc").microservice(method="aggregate") is stand_in
        assert helper.call_count == 1


def test_tester_functions_with_namespace_like_args(tmp_path):
    """``run_method`` / ``run_predict`` called with a plain object of attributes, as such tests do."""
    from types import SimpleNamespace
    from unittest import mock

    from seldon_core import api_tester, microservice_tester

    contract = tmp_path / "contract.json"
    features = [{"name": n, "dtype": "FLOAT", "ftype": "continuous", "range": [0, 1]} for n in ("a", "b")]
    contract.write_text(json.dumps({"features": features, "targets": []}))
    args = SimpleNamespace(
        contract=str(contract),
        host="h",
        port=1,
        n_requests=2,
        batch_size=3,
        prnt=False,
        grpc=False,
        tensor=True,
    )
    with mock.patch("requests.post", return_value=CannedResponse(ANSWER)) as post:
        assert microservice_tester.run_method(args, "predict") == 0
        payload = json.loads(post.call_args[1]["data"]["json"])
        assert payload["data"]["names"] == ["a", "b"] and payload["data"]["tensor"]["shape"] == [3, 2]
        assert post.call_count == 2
        assert microservice_tester.run_send_feedback(args) == 0
        assert post.call_args[0][0] == "http://h:1/send-feedback"
        args.deployment, args.namespace = "dep", None
        assert api_tester.run_predict(args) == 0
        assert post.call_args[0][0] == "http://h:1/seldon/dep/api/v1.0/predictions"
        assert api_tester.run_send_feedback(args) == 0
        assert post.call_args[0][0] == "http://h:1/seldon/dep/api/v1.0/feedback"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"features": [{"name": "x", "ftype": "nominal"}], "targets": []}))
    args.contract = str(bad)
    with pytest.raises(microservice_tester.SeldonTesterException):
        microservice_tester.run_send_feedback(args)
