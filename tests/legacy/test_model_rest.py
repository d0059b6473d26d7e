"""Model tests as users of the original wrote them: get_rest_microservice(model).test_client()."""

import base64
import json
from unittest.mock import patch

import numpy as np
import pytest
from flask import Blueprint, jsonify

from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.metrics import SeldonMetrics
from seldon_core.user_model import SeldonComponent, SeldonResponse
from seldon_core.wrapper import get_rest_microservice


class UserObject:
    def __init__(self, metrics_ok=True, ret_nparray=False, ret_meta=False):
        self.metrics_ok = metrics_ok
        self.ret_nparray = ret_nparray
        self.nparray = np.array([1, 2, 3])
        self.ret_meta = ret_meta
        self.seen_meta = "unset"

    def predict(self, X, features_names, **kwargs):
        self.seen_meta = kwargs.get("meta")
        if self.ret_nparray:
            return self.nparray
        return X

    def tags(self):
        return {"mytag": 1}

    def metrics(self):
        if self.metrics_ok:
            return [{"type": "COUNTER", "key": "mycounter", "value": 1}]
        return [{"type": "BAD", "foo": "bar"}]


class UserObjectLowLevel:
    def predict_raw(self, msg):
        return {
            "data": {"ndarray": [9, 9]},
            "meta": {"metrics": [{"type": "GAUGE", "key": "raw", "value": 3}]},
        }


class UserObjectClassNames(SeldonComponent):
    def predict(self, X, feature_names):
        return X

    def class_names(self):
        return ["a", "b"]


class UserObjectRuntime(SeldonComponent):
    def predict(self, X, feature_names, meta=None):
        return SeldonResponse(
            data=X,
            tags={"rt": "1", "shared": "runtime"},
            metrics=[{"type": "GAUGE", "key": "rg", "value": 7}],
        )

    def tags(self):
        return {"st": "s", "shared": "static"}

    def metrics(self):
        return [{"type": "COUNTER", "key": "sc", "value": 1}]


class UserObjectPayloads:
    def predict(self, X, features_names):
        return X


class UserObjectFails:
    def predict(self, X, features_names):
        raise SeldonMicroserviceException("I refuse", status_code=403, reason="MY_REASON")


class UserObjectBug:
    def predict(self, X, features_names):
        raise ValueError("broken model")


class UserCustomException(Exception):
    status_code = 402

    def __init__(self, message):
        Exception.__init__(self)
        self.message = message

    def to_dict(self):
        return {"status": {"status": self.status_code, "message": self.message, "app_code": 1402}}


class UserObjectErrorHandler:
    model_error_handler = Blueprint("model_error_handlers", __name__)

    @model_error_handler.app_errorhandler(UserCustomException)
    def handle_custom_error(error):
        response = jsonify(error.to_dict())
        response.status_code = error.status_code
        return response

    def predict(self, X, features_names):
        raise UserCustomException("Test-Error-Msg")


class UserObjectStatus:
    def predict_raw(self, msg):
        return {"status": {"code": 201, "status": "SUCCESS"}, "strData": "created"}


class UserObjectPassthrough:
    def __init__(self):
        self.received = None

    def predict_raw(self, msg):
        self.received = msg
        return b'{"strData": "raw"}'


class UserObjectMetadata:
    def init_metadata(self):
        return {
            "name": "my-model",
            "versions": ["v1"],
            "platform": "seldon",
            "inputs": [{"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}}],
            "outputs": [{"name": "output", "datatype": "FP32", "shape": [1]}],
        }

    def predict(self, X, features_names):
        return X


class UserObjectBadMetadata:
    def init_metadata(self):
        return {"versions": "not-a-list"}


class UserObjectHealth:
    def health_status(self):
        return [1, 2]


def test_model_ok():
    user_object = UserObject()
    app = get_rest_microservice(user_object)
    client = app.test_client()
    rv = client.get('/predict?json={"data":{"names":["a","b"],"ndarray":[[1,2]]}}')
    j = json.loads(rv.data)
    assert rv.status_code == 200
    assert j["meta"]["tags"] == {"mytag": 1}
    assert j["meta"]["metrics"] == [{"key": "mycounter", "type": "COUNTER", "value": 1}]
    assert j["data"]["names"] == ["t:0", "t:1"]
    assert j["data"]["ndarray"] == [[1, 2]]
    assert user_object.seen_meta is None


def test_model_post_json_body_keeps_tensor_and_echoes_puid():
    user_object = UserObject()
    client = get_rest_microservice(user_object).test_client()
    rv = client.post(
        "/predict",
        json={
            "meta": {"puid": "1234", "tags": {"req": "r"}},
            "data": {"tensor": {"shape": [2, 1], "values": [1, 2]}},
        },
    )
    j = json.loads(rv.data)
    assert rv.status_code == 200
    assert j["data"] == {"names": ["t:0"], "tensor": {"shape": [2, 1], "values": [1, 2]}}
    assert j["meta"]["puid"] == "1234"
    assert j["meta"]["tags"] == {"req": "r", "mytag": 1}
    assert user_object.seen_meta == {"puid": "1234", "tags": {"req": "r"}}


def test_model_form_field_and_versioned_path():
    client = get_rest_microservice(UserObject()).test_client()
    rv = client.post("/api/v1.0/predictions", data={"json": '{"data":{"ndarray":[[1.5,2]]}}'})
    assert rv.status_code == 200
    assert json.loads(rv.data)["data"]["ndarray"] == [[1.5, 2.0]]


def test_model_returns_nparray_with_tags_and_metrics():
    client = get_rest_microservice(UserObject(ret_nparray=True)).test_client()
    rv = client.get('/predict?json={"strData":"hello"}')
    j = json.loads(rv.data)
    assert j["data"] == {"names": [], "tensor": {"shape": [3], "values": [1, 2, 3]}}


@pytest.mark.parametrize(
    "payload, expected",
    [
        ({"strData": "hello"}, {"strData": "hello"}),
        ({"binData": base64.b64encode(b"\x00abc").decode()}, {"binData": "AGFiYw=="}),
        ({"jsonData": {"a": [1, 2]}}, {"jsonData": {"a": [1, 2]}}),
        ({"data": {"ndarray": [[1, "b"]]}}, {"data": {"names": ["t:0", "t:1"], "ndarray": [["1", "b"]]}}),
    ],
)
def test_model_payload_kinds(payload, expected):
    client = get_rest_microservice(UserObjectPayloads()).test_client()
    rv = client.post("/predict", json=payload)
    assert rv.status_code == 200
    assert json.loads(rv.data) == {**expected, "meta": {}}


def test_model_class_names():
    client = get_rest_microservice(UserObjectClassNames()).test_client()
    rv = client.get('/predict?json={"data":{"ndarray":[[1,2]]}}')
    assert json.loads(rv.data)["data"]["names"] == ["a", "b"]


def test_model_seldon_response_runtime_tags_and_metrics():
    client = get_rest_microservice(UserObjectRuntime()).test_client()
    rv = client.post(
        "/predict", json={"meta": {"tags": {"req": "r", "shared": "request"}}, "data": {"ndarray": [1]}}
    )
    meta = json.loads(rv.data)["meta"]
    assert meta["tags"] == {"req": "r", "rt": "1", "shared": "runtime", "st": "s"}
    assert meta["metrics"] == [
        {"key": "sc", "type": "COUNTER", "value": 1},
        {"key": "rg", "type": "GAUGE", "value": 7},
    ]


@patch("seldon_core.user_model.INCLUDE_METRICS_IN_CLIENT_RESPONSE", False)
def test_model_metrics_not_in_response_when_disabled():
    seldon_metrics = SeldonMetrics()
    client = get_rest_microservice(UserObject(), seldon_metrics).test_client()
    rv = client.get('/predict?json={"data":{"ndarray":[[1]]}}')
    j = json.loads(rv.data)
    assert rv.status_code == 200
    assert "metrics" not in j["meta"]
    # still exported
    assert "mycounter_total{" in seldon_metrics.generate_metrics()[0]


@patch("seldon_core.seldon_methods.INCLUDE_METRICS_IN_CLIENT_RESPONSE", False)
def test_lowlevel_metrics_stripped_when_disabled_in_seldon_methods():
    client = get_rest_microservice(UserObjectLowLevel()).test_client()
    j = json.loads(client.get('/predict?json={"data":{"ndarray":[1]}}').data)
    assert j == {"data": {"ndarray": [9, 9]}, "meta": {}}


def test_lowlevel_returns_raw_response():
    client = get_rest_microservice(UserObjectLowLevel()).test_client()
    j = json.loads(client.get('/predict?json={"data":{"ndarray":[1]}}').data)
    assert j == {
        "data": {"ndarray": [9, 9]},
        "meta": {"metrics": [{"key": "raw", "type": "GAUGE", "value": 3}]},
    }


def test_model_bad_metrics():
    client = get_rest_microservice(UserObject(metrics_ok=False)).test_client()
    rv = client.get('/predict?json={"data":{"ndarray":[[1]]}}')
    j = json.loads(rv.data)
    assert rv.status_code == 500
    assert j["status"]["reason"] == "MICROSERVICE_BAD_METRIC"
    assert j["status"]["info"].startswith("Bad metric created during request: ")


def test_model_raises_seldon_exception():
    client = get_rest_microservice(UserObjectFails()).test_client()
    rv = client.get('/predict?json={"data":{"ndarray":[[1]]}}')
    assert rv.status_code == 403
    assert json.loads(rv.data) == {
        "status": {"code": -1, "info": "I refuse", "reason": "MY_REASON", "status": 1}
    }


def test_model_raises_other_exception():
    client = get_rest_microservice(UserObjectBug()).test_client()
    rv = client.get('/predict?json={"data":{"ndarray":[[1]]}}')
    assert rv.status_code == 500
    assert json.loads(rv.data)["status"] == {
        "code": -1,
        "info": "broken model",
        "reason": "MICROSERVICE_INTERNAL_ERROR",
        "status": 1,
    }


def test_model_error_handler_blueprint():
    client = get_rest_microservice(UserObjectErrorHandler()).test_client()
    rv = client.get('/predict?json={"data":{"ndarray":[[1]]}}')
    assert rv.status_code == 402
    assert json.loads(rv.data) == {"status": {"app_code": 1402, "message": "Test-Error-Msg", "status": 402}}


@pytest.mark.parametrize("query", ['{"foo":1}', "[1,2]"])
def test_model_invalid_request(query):
    client = get_rest_microservice(UserObject()).test_client()
    rv = client.get(f"/predict?json={query}")
    j = json.loads(rv.data)
    assert rv.status_code == 400
    assert j["status"]["reason"] == "MICROSERVICE_BAD_DATA"
    assert j["status"]["info"].startswith("Invalid request data type: ")


def test_model_status_code_from_raw_response():
    client = get_rest_microservice(UserObjectStatus()).test_client()
    rv = client.get('/predict?json={"strData":"x"}')
    assert rv.status_code == 201
    assert json.loads(rv.data)["strData"] == "created"


@patch("seldon_core.wrapper.PAYLOAD_PASSTHROUGH", True)
def test_payload_passthrough():
    user_object = UserObjectPassthrough()
    client = get_rest_microservice(user_object).test_client()
    rv = client.post("/predict", data=b"not json at all", content_type="application/octet-stream")
    assert rv.status_code == 200
    assert rv.data == b'{"strData": "raw"}'
    assert user_object.received == b"not json at all"


def test_request_path_from_environment(monkeypatch):
    monkeypatch.setenv("PREDICTIVE_UNIT_ID", "mymodel")
    monkeypatch.setenv("PREDICTIVE_UNIT_IMAGE", "myrepo/myimage:0.3")
    client = get_rest_microservice(UserObjectPayloads()).test_client()
    j = json.loads(client.get('/predict?json={"data":{"ndarray":[1]}}').data)
    assert j["meta"] == {"requestPath": {"mymodel": "myrepo/myimage:0.3"}}


def test_metadata():
    client = get_rest_microservice(UserObjectMetadata()).test_client()
    rv = client.get("/metadata")
    assert rv.status_code == 200
    assert json.loads(rv.data) == {
        "name": "my-model",
        "versions": ["v1"],
        "platform": "seldon",
        "inputs": [{"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}}],
        "outputs": [{"name": "output", "datatype": "FP32", "shape": [1]}],
        "custom": {},
    }


def test_metadata_env_overrides_init_metadata(monkeypatch):
    monkeypatch.setenv("MODEL_METADATA", "name: from-env\nplatform: yaml\n")
    client = get_rest_microservice(UserObjectMetadata()).test_client()
    j = json.loads(client.get("/api/v1.0/metadata").data)
    assert (j["name"], j["platform"], j["versions"]) == ("from-env", "yaml", ["v1"])


def test_metadata_invalid():
    client = get_rest_microservice(UserObjectBadMetadata()).test_client()
    rv = client.get("/metadata")
    assert rv.status_code == 500
    assert json.loads(rv.data)["status"] == {
        "code": -1,
        "info": "Model metadata unavailable",
        "reason": "MICROSERVICE_BAD_METADATA",
        "status": 1,
    }


def test_health():
    client = get_rest_microservice(UserObject()).test_client()
    rv = client.get("/health/ping")
    assert (rv.status_code, rv.data) == (200, b"pong")
    j = json.loads(client.get("/health/status").data)
    assert j["strData"] == "healthy"
    assert j["meta"]["tags"] == {"mytag": 1}


def test_health_user_status():
    client = get_rest_microservice(UserObjectHealth()).test_client()
    j = json.loads(client.get("/api/v1.0/health/status").data)
    assert j == {"data": {"names": [], "tensor": {"shape": [2], "values": [1, 2]}}, "meta": {}}
