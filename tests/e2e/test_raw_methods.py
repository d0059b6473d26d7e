"""Raw and legacy user methods against real servers (spec 2.4, 2.6.1-2.6.5, 5.2, 6.4)."""

import pytest
import requests

from tests.conftest import module_server

raw = module_server("E2eRaw")
raw_stripped = module_server("E2eRaw", env={"INCLUDE_METRICS_IN_CLIENT_RESPONSE": "false"})
legacy = module_server("E2eLegacyRest")


def post(server, path, payload):
    return requests.post(server.url + path, json=payload, timeout=10)


def test_predict_raw_returns_the_dict_as_is(raw):
    payload = {"meta": {"puid": "r1", "tags": {"t": 1}}, "data": {"names": ["a"], "ndarray": [[1]]}}
    response = post(raw, "/predict", payload)
    assert response.status_code == 200
    # No names rewritten, nothing added to meta.
    assert response.text == '{"data":{"names":["a"],"ndarray":[[1]]},"meta":{"puid":"r1","tags":{"t":1}}}\n'


def test_predict_raw_without_meta_gets_no_meta(raw):
    response = post(raw, "/api/v1.0/predictions", {"data": {"ndarray": [[1, 2]]}})
    assert response.status_code == 200
    assert response.text == '{"data":{"ndarray":[[1,2]]}}\n'


def test_predict_raw_metrics_kept_by_default(raw):
    response = post(raw, "/predict", {"jsonData": {"mode": "metrics"}})
    assert response.status_code == 200
    assert response.json() == {
        "jsonData": {"ok": True},
        "meta": {"metrics": [{"key": "raw_c", "type": "COUNTER", "value": 1}], "tags": {"raw": "yes"}},
    }


def test_predict_raw_metrics_stripped_when_not_included(raw_stripped):
    response = post(raw_stripped, "/predict", {"jsonData": {"mode": "metrics"}})
    assert response.status_code == 200
    assert response.json() == {"jsonData": {"ok": True}, "meta": {"tags": {"raw": "yes"}}}


def test_predict_raw_list_is_encoded_as_is(raw):
    response = post(raw, "/predict", {"jsonData": {"mode": "list"}})
    assert response.status_code == 200
    assert response.text == "[1,2,3]\n"


@pytest.mark.parametrize("path", ["/predict", "/api/v1.0/predictions", "/api/v0.1/predictions"])
def test_predict_raw_status_code_becomes_http_status(raw, path):
    response = post(raw, path, {"jsonData": {"mode": "fail"}})
    assert response.status_code == 400
    assert response.json() == {"status": {"code": 400, "status": "FAILURE"}}
    created = post(raw, path, {"jsonData": {"mode": "created"}})
    assert created.status_code == 201
    assert created.json() == {"jsonData": {"created": True}, "status": {"code": 201, "status": "SUCCESS"}}


def test_predict_raw_not_implemented_falls_back_to_predict(raw):
    response = post(raw, "/predict", {"strData": "hello", "meta": {"puid": "f"}})
    assert response.status_code == 200
    assert response.json() == {"meta": {"puid": "f"}, "strData": "HELLO"}


def test_transform_input_raw_as_is_and_status_not_applied(raw):
    response = post(raw, "/transform-input", {"strData": "x"})
    assert response.status_code == 200
    assert response.json() == {
        "got": {"strData": "x"},
        "status": {"code": 400, "status": "FAILURE"},
        "strData": "ti-raw",
    }


def test_route_raw_as_is(raw):
    response = post(raw, "/route", {"meta": {"puid": "p"}, "data": {"ndarray": [[1]]}})
    assert response.status_code == 200
    assert response.json() == {"data": {"ndarray": [[5]]}, "meta": {"tags": {"by": "route_raw"}}}


@pytest.mark.parametrize(
    "payload",
    [
        [{"data": {"ndarray": [[1]]}}, {"strData": "b"}],
        {"seldonMessages": [{"jsonData": {"k": 1}}]},
    ],
)
def test_aggregate_raw_receives_the_request_as_sent(raw, payload):
    response = post(raw, "/aggregate", payload)
    assert response.status_code == 200
    assert response.json() == {"jsonData": {"received": payload}}


def test_send_feedback_raw_gets_proto_and_answers_proto(raw):
    payload = {"request": {"data": {"ndarray": [[1]]}}, "reward": 0.5}
    response = post(raw, "/send-feedback", payload)
    assert response.status_code == 200
    assert response.json() == {
        "meta": {"metrics": [{"key": "fb_raw", "type": "GAUGE", "value": 2.0}]},
        "strData": "Feedback reward=0.5",
    }


def test_send_feedback_raw_metrics_stripped(raw_stripped):
    response = post(raw_stripped, "/api/v1.0/feedback", {"reward": 0.25})
    assert response.status_code == 200
    assert response.json() == {"meta": {}, "strData": "Feedback reward=0.25"}


def test_transform_output_without_raw_is_identity(raw):
    response = post(raw, "/transform-output", {"data": {"names": ["a"], "ndarray": [[1]]}})
    assert response.status_code == 200
    assert response.json() == {"data": {"names": ["t:0"], "ndarray": [[1]]}, "meta": {}}


def test_deprecated_predict_rest_wins_and_is_returned_as_is(legacy):
    payload = {"meta": {"puid": "l"}, "data": {"ndarray": [[1]]}}
    response = post(legacy, "/predict", payload)
    assert response.status_code == 200
    assert response.json() == {"got": payload, "legacy": True}


def test_deprecated_predict_rest_status_code_applies(legacy):
    response = post(legacy, "/api/v1.0/predictions", {"strData": "teapot"})
    assert response.status_code == 418
    assert response.json() == {"status": {"code": 418, "status": "FAILURE"}}


def test_a_raw_method_answering_a_dict_on_grpc_is_a_clear_internal_error(raw):
    """Only a SeldonMessage can go back over gRPC: a dict from route_raw is named, not grpcio's
    "Failed to serialize response!" with a traceback in the log; the server keeps serving."""
    import grpc

    from tests.e2e.grpc_helpers import call_error, grpc_channel, message, rpc

    with grpc_channel(raw) as channel:
        error = call_error(rpc(channel, "Router", "Route"), message({"data": {"ndarray": [[1]]}}))
        assert error.code() == grpc.StatusCode.INTERNAL
        assert "Route on gRPC must answer a SeldonMessage" in error.details()
        assert "returned dict" in error.details()
        transform_output = rpc(channel, "OutputTransformer", "TransformOutput")
        answer = transform_output(message({"strData": "still here"}), timeout=10)
        assert answer.strData == "still here"
    assert "Failed to serialize" not in raw.log()
    assert "Traceback" not in raw.log()
