"""Custom tags and metrics in response meta against real servers (spec 3.4, 3.11, 5.4, 6.1, 6.2, 6.7)."""

import json

import pytest
import requests

from tests.conftest import module_server

server = module_server("E2eTagsMetrics")
stripped = module_server("E2eTagsMetrics", env={"INCLUDE_METRICS_IN_CLIENT_RESPONSE": "false"})
bad_static = module_server("E2eBadStaticMetrics")

REQS = {"key": "reqs", "type": "COUNTER", "value": 1}
STATIC_TAGS = {"shared": "static", "st": "s"}
REQUEST_METRIC = {"key": "k", "type": "GAUGE", "value": 1}

# The same literals the model returns (key order matters for the error text).
BAD_METRICS = {
    "bad-type": [{"type": "WRONG", "key": "k", "value": 1}],
    "missing-key": [{"type": "COUNTER", "value": 1}],
    "bad-value": [{"type": "COUNTER", "key": "k", "value": "1"}],
    "not-a-list": {"type": "COUNTER", "key": "k", "value": 1},
}


def post(srv, path, payload):
    return requests.post(srv.url + path, json=payload, timeout=10)


def lat(method):
    return {"key": "lat", "tags": {"method": method, "model": "m"}, "type": "TIMER", "value": 2.5}


def bad_metric(metrics):
    return {
        "status": {
            "code": -1,
            "info": "Bad metric created during request: " + json.dumps(metrics),
            "reason": "MICROSERVICE_BAD_METRIC",
            "status": 1,
        }
    }


def test_merge_order_request_static_runtime(server):
    payload = {
        "meta": {"puid": "m1", "tags": {"req": "r", "shared": "request"}, "metrics": [REQUEST_METRIC]},
        "data": {"ndarray": [[1, 2]]},
    }
    response = post(server, "/predict", payload)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]},
        "meta": {
            "metrics": [
                REQUEST_METRIC,
                REQS,
                lat("predict"),
                {"key": "g", "tags": {"l": "v", "method": "predict"}, "type": "GAUGE", "value": 3},
            ],
            "puid": "m1",
            "tags": {"req": "r", "rt": "1", "shared": "runtime", "st": "s"},
        },
    }


def test_static_tags_and_metrics_alone(server):
    response = post(server, "/api/v1.0/predictions", {"strData": "plain"})
    assert response.status_code == 200
    assert response.text == (
        '{"meta":{"metrics":[{"key":"reqs","type":"COUNTER","value":1},'
        '{"key":"lat","tags":{"method":"predict","model":"m"},"type":"TIMER","value":2.5}],'
        '"tags":{"shared":"static","st":"s"}},"strData":"plain"}\n'
    )


@pytest.mark.parametrize(
    "method, path, payload",
    [
        ("inputtransform", "/transform-input", {"strData": "x"}),
        ("outputtransform", "/transform-output", {"strData": "x"}),
    ],
)
def test_metric_tags_get_the_method_of_the_endpoint(server, method, path, payload):
    response = post(server, path, payload)
    assert response.status_code == 200
    assert response.json() == {"meta": {"metrics": [REQS, lat(method)], "tags": STATIC_TAGS}, "strData": "x"}


def test_health_includes_tags_and_metrics(server):
    response = requests.get(server.url + "/health/status", timeout=10)
    assert response.status_code == 200
    assert response.json() == {
        "meta": {"metrics": [REQS, lat("health")], "tags": STATIC_TAGS},
        "strData": "healthy",
    }


@pytest.mark.parametrize("case", list(BAD_METRICS))
def test_bad_runtime_metric_is_500_and_server_keeps_serving(server, case):
    response = post(server, "/predict", {"strData": case})
    assert response.status_code == 500
    assert response.json() == bad_metric(BAD_METRICS[case])
    again = post(server, "/predict", {"strData": "plain"})
    assert again.status_code == 200
    assert again.json()["strData"] == "plain"


def test_bad_static_metric_is_500(bad_static):
    bad = [{"type": "COUNTER", "key": "c", "value": "x"}]
    response = post(bad_static, "/predict", {"data": {"ndarray": [[1]]}})
    assert response.status_code == 500
    assert response.json() == bad_metric(bad)
    health = requests.get(bad_static.url + "/health/status", timeout=10)
    assert health.status_code == 500
    assert health.json() == bad_metric(bad)


def test_runtime_metrics_are_validated_before_static(bad_static):
    response = post(bad_static, "/predict", {"strData": "both"})
    assert response.status_code == 500
    assert response.json() == bad_metric([{"type": "GAUGE", "key": "runtime"}])
    assert requests.get(bad_static.url + "/health/ping", timeout=10).text == "pong"


def test_include_metrics_false_strips_custom_metrics_keeps_request_metrics(stripped):
    payload = {
        "meta": {"tags": {"req": "r", "shared": "request"}, "metrics": [REQUEST_METRIC]},
        "data": {"ndarray": [[1, 2]]},
    }
    response = post(stripped, "/predict", payload)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]},
        "meta": {
            "metrics": [REQUEST_METRIC],
            "tags": {"req": "r", "rt": "1", "shared": "runtime", "st": "s"},
        },
    }


def test_include_metrics_false_without_request_metrics(stripped):
    response = post(stripped, "/predict", {"strData": "plain"})
    assert response.status_code == 200
    assert response.json() == {"meta": {"tags": STATIC_TAGS}, "strData": "plain"}
    health = requests.get(stripped.url + "/health/status", timeout=10)
    assert health.json() == {"meta": {"tags": STATIC_TAGS}, "strData": "healthy"}


def test_include_metrics_false_still_validates(stripped):
    response = post(stripped, "/predict", {"strData": "bad-type"})
    assert response.status_code == 500
    assert response.json() == bad_metric(BAD_METRICS["bad-type"])
