"""User errors and predict signatures against real servers (spec 2.4, 2.5, 5.3)."""

import pytest
import requests

from tests.conftest import module_server

errors = module_server("E2eErrors")
two_args = module_server("E2ePredictTwoArgs")
kwargs_model = module_server("E2eParams")


def post(server, path, payload):
    return requests.post(server.url + path, json=payload, timeout=10)


def test_user_seldon_exception_keeps_status_and_reason(errors):
    response = post(errors, "/predict", {"strData": "seldon"})
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    assert response.text == '{"status":{"code":-1,"info":"msg","reason":"X","status":1}}\n'


def test_user_value_error_is_internal_error(errors):
    response = post(errors, "/api/v1.0/predictions", {"strData": "value"})
    assert response.status_code == 500
    assert response.json() == {
        "status": {"code": -1, "info": "boom", "reason": "MICROSERVICE_INTERNAL_ERROR", "status": 1}
    }


def test_model_error_handler_blueprint(errors):
    response = post(errors, "/predict", {"strData": "custom"})
    assert response.status_code == 402
    assert response.json() == {"status": {"app_code": 1402, "message": "Test-Error-Msg", "status": 402}}


def test_type_error_inside_predict_runs_predict_once(errors):
    before = post(errors, "/predict", {"strData": "calls"}).json()["jsonData"]["type_error_calls"]
    response = post(errors, "/predict", {"strData": "type", "meta": {"puid": "te"}})
    assert response.status_code == 500
    assert response.json() == {
        "status": {
            "code": -1,
            "info": "object of type 'NoneType' has no len()",
            "reason": "MICROSERVICE_INTERNAL_ERROR",
            "status": 1,
        }
    }
    after = post(errors, "/predict", {"strData": "calls"}).json()["jsonData"]["type_error_calls"]
    assert after - before == 1


def test_server_keeps_serving_after_errors(errors):
    for case in ("seldon", "value", "custom", "type"):
        assert post(errors, "/predict", {"strData": case}).status_code >= 400
    response = post(errors, "/predict", {"strData": "fine"})
    assert response.status_code == 200
    assert response.json() == {"meta": {}, "strData": "fine"}


# -- signatures -----------------------------------------------------------------------------


def test_predict_with_meta_keyword_receives_request_meta(errors):
    meta = {"puid": "s1", "tags": {"a": "b"}, "routing": {"r": 0}}
    response = post(errors, "/predict", {"jsonData": {"x": 1}, "meta": meta})
    assert response.status_code == 200
    assert response.json() == {"jsonData": {"meta_seen": meta}, "meta": {"puid": "s1", "tags": {"a": "b"}}}


def test_predict_with_meta_keyword_gets_none_without_meta(errors):
    response = post(errors, "/predict", {"jsonData": {"x": 1}})
    assert response.status_code == 200
    assert response.json() == {"jsonData": {"meta_seen": None}, "meta": {}}


def test_predict_two_args(two_args):
    response = post(
        two_args, "/predict", {"meta": {"puid": "t"}, "data": {"names": ["a", "b"], "ndarray": [[1, 2]]}}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"names": ["t:0", "t:1"], "ndarray": [[2, 3]]}, "meta": {"puid": "t"}}


def test_predict_two_args_gets_names(two_args):
    response = post(two_args, "/predict", {"jsonData": {"k": "v"}})
    assert response.status_code == 200
    assert response.json() == {"jsonData": {"got": {"k": "v"}, "names": []}, "meta": {}}


@pytest.mark.parametrize(
    "meta, seen",
    [({"puid": "k1", "tags": {"z": 1}}, {"puid": "k1", "tags": {"z": 1}}), (None, None)],
)
def test_predict_kwargs_receives_meta_keyword(kwargs_model, meta, seen):
    payload = {"strData": "x"} if meta is None else {"strData": "x", "meta": meta}
    response = post(kwargs_model, "/predict", payload)
    assert response.status_code == 200
    body = response.json()
    assert body["jsonData"] == {"kwargs": ["meta"], "meta_seen": seen, "params": {}}
