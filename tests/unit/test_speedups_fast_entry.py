"""The WSGI fast entry for JSON predictions answers exactly what the Flask route answers."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_wrapper.component import Component, SeldonResponse
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.settings import Settings
from seldon_wrapper.speedups.fast_entry import FastEntry
from tests.conftest import app_with_speedups


class Model:
    def predict(self, X, names, meta=None):
        tags = (meta or {}).get("tags", {})
        if "raise" in tags:
            raise ValueError("boom")
        if "reject" in tags:
            raise SeldonMicroserviceException("nope", status_code=403, reason="X")
        if "status" in tags:
            return {"status": {"code": tags["status"], "status": "FAILURE"}}
        if "runtime" in tags:
            return SeldonResponse(X, tags={"rt": 1}, metrics=[{"type": "COUNTER", "key": "c", "value": 1}])
        return X

    def tags(self):
        return {"static": "s"}


@pytest.fixture(scope="module")
def client():
    settings = Settings(predictive_unit_id="node", predictive_unit_image="img:1")
    component = Component(Model())
    component.load()
    app = app_with_speedups(Dataplane(component, settings))
    assert isinstance(app.wsgi_app, FastEntry)
    return app.test_client()


PAYLOADS = [
    {"data": {"ndarray": [[1, 2], [3, 4]]}},
    {"data": {"names": ["a"], "tensor": {"shape": [2, 1], "values": [0.5, 1e-7]}}},
    {"data": {"ndarray": [["a", 1]]}},
    {"strData": "héllo"},
    {"binData": "AAFhYmM="},
    {"jsonData": {"b": [1, None], "a": float("nan")}},
    {"meta": {"puid": "p", "tags": {"t": 1}}, "data": {"ndarray": [1]}},
    {"meta": {"tags": {"raise": 1}}, "data": {"ndarray": [1]}},
    {"meta": {"tags": {"reject": 1}}, "data": {"ndarray": [1]}},
    {"meta": {"tags": {"status": 201}}, "data": {"ndarray": [1]}},
    {"meta": {"tags": {"runtime": 1}}, "data": {"ndarray": [[1.5]]}},
    {"data": {"ndarray": [[1, 2], [3]]}},
    {"data": {"tensor": {"values": [1]}}},
    {"binData": "!!"},
    {"foo": 1},
    [1, 2],
    "text",
]


def _both(client, body: bytes, headers: dict | None = None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    fast = client.post("/api/v1.0/predictions", data=body, headers=headers)
    flask = client.post("/api/v1.0/predictions?via=flask", data=body, headers=headers)
    return fast, flask


def _same(fast, flask):
    assert fast.status == flask.status  # code and reason phrase
    assert fast.data == flask.data
    for header in ("Content-Type", "Content-Length", "Access-Control-Allow-Origin", "Vary"):
        assert fast.headers.get(header) == flask.headers.get(header), header


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_fast_path_equals_flask_route(client, payload):
    fast, flask = _both(client, json.dumps(payload).encode())
    _same(fast, flask)


@pytest.mark.parametrize("body", [b"", b"null", b"{not json", b"\xff"])
def test_fast_path_equals_flask_route_for_bad_bodies(client, body):
    _same(*_both(client, body))


def test_cors_origin_is_echoed_on_both_paths(client):
    fast, flask = _both(client, b'{"strData":"x"}', {"Origin": "http://a.example"})
    _same(fast, flask)
    assert fast.headers["Access-Control-Allow-Origin"] == "http://a.example"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=False, width=64)),
            min_size=2,
            max_size=2,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fast_path_equals_flask_route_for_random_arrays(client, rows):
    _same(*_both(client, json.dumps({"data": {"ndarray": rows}}).encode()))
    values = np.array(rows, dtype=float).ravel().tolist()
    body = {"data": {"tensor": {"shape": [len(rows), 2], "values": values}}}
    _same(*_both(client, json.dumps(body).encode()))


V2_REQUESTS = [
    ({"id": "1", "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]}, {}),
    ({"inputs": [{"name": "s", "shape": [1], "datatype": "BYTES", "data": ["héllo"]}]}, {}),
    ({"inputs": [{"name": "x", "shape": [3], "datatype": "FP64", "data": [1, 2]}]}, {}),
    ({"inputs": [{"name": "x", "shape": [1], "datatype": "NOPE", "data": [1]}]}, {}),
    ({"inputs": []}, {}),
    (
        {
            "inputs": [{"name": "x", "shape": [1], "datatype": "INT64", "data": [1]}],
            "outputs": [{"name": "o"}],
        },
        {},
    ),
]


@pytest.mark.parametrize(("body", "headers"), V2_REQUESTS, ids=range(len(V2_REQUESTS)))
def test_v2_fast_path_equals_flask_route(client, body, headers):
    data = json.dumps(body).encode()
    fast = client.post("/v2/models/node/infer", data=data, headers=headers)
    flask = client.post("/v2/models/node/infer?via=flask", data=data, headers=headers)
    _same(fast, flask)
    assert fast.status_code not in (404, 503)  # the model name is PREDICTIVE_UNIT_ID; loaded
    fast = client.post("/v2/models/other/infer", data=data)
    flask = client.post("/v2/models/other/infer?via=flask", data=data)
    _same(fast, flask)


def test_v2_fast_path_binary_output_equals_flask_route(client):
    head = json.dumps(
        {
            "inputs": [
                {"name": "x", "shape": [2], "datatype": "INT32", "parameters": {"binary_data_size": 8}}
            ],
            "parameters": {"binary_data_output": True},
        }
    ).encode()
    tail = np.array([7, 9], dtype="<i4").tobytes()
    headers = {"Inference-Header-Content-Length": str(len(head))}
    fast = client.post("/v2/models/node/infer", data=head + tail, headers=headers)
    flask = client.post("/v2/models/node/infer?via=flask", data=head + tail, headers=headers)
    _same(fast, flask)
    assert fast.headers["Inference-Header-Content-Length"] == flask.headers["Inference-Header-Content-Length"]
    assert fast.data.endswith(tail)


class GraphNode:
    """Every call an executor makes, with answers and failures on demand."""

    def transform_input(self, X, names, meta=None):
        if (meta or {}).get("tags", {}).get("raise"):
            raise ValueError("boom")
        return X * 2

    def transform_output(self, X, names):
        return SeldonResponse(X * 3, tags={"out": 1})

    def route(self, X, names):
        if X.ravel()[0] < 0:
            raise SeldonMicroserviceException("no route", status_code=400, reason="R")
        return int(X.ravel()[0])

    def aggregate(self, Xs, names_list):
        return sum(Xs[1:], Xs[0])

    def tags(self):
        return {"node": "n"}


@pytest.fixture(scope="module")
def graph_client():
    component = Component(GraphNode())
    component.load()
    app = app_with_speedups(Dataplane(component, Settings(predictive_unit_id="node")))
    return app.test_client()


DATA_CALLS = [
    ("/transform-input", {"data": {"ndarray": [[1, 2]]}, "meta": {"tags": {"t": 1}}}),
    ("/transform-input", {"data": {"ndarray": [[1]]}, "meta": {"tags": {"raise": 1}}}),
    ("/transform-output", {"data": {"tensor": {"shape": [1, 2], "values": [1.5, 2]}}}),
    ("/route", {"data": {"ndarray": [[1]]}}),
    ("/route", {"data": {"ndarray": [[-1]]}}),
    (
        "/aggregate",
        [{"data": {"ndarray": [[1, 2]]}}, {"data": {"ndarray": [[3, 4]]}, "meta": {"tags": {"b": 2}}}],
    ),
    ("/aggregate", {"seldonMessages": [{"data": {"ndarray": [1]}}]}),
    ("/aggregate", []),
    ("/transform-input", "text"),
]


@pytest.mark.parametrize("path, payload", DATA_CALLS, ids=range(len(DATA_CALLS)))
def test_the_executors_other_calls_take_the_fast_path_with_flasks_answer(graph_client, path, payload):
    headers = {"Content-Type": "application/json"}
    body = json.dumps(payload).encode()
    fast = graph_client.post(path, data=body, headers=headers)
    flask = graph_client.post(path + "?via=flask", data=body, headers=headers)
    _same(fast, flask)


def test_the_data_routes_are_answered_before_flask(graph_client, mocker):
    flask_app = mocker.patch.object(graph_client.application.wsgi_app, "app")
    answer = graph_client.post("/transform-input", json={"data": {"ndarray": [[1, 2]]}})
    assert answer.status_code == 200 and answer.json["data"]["ndarray"] == [[2, 4]]
    flask_app.assert_not_called()
