"""rest/v0.py in-process: /recommend, the v0 form of /predict, and v1 /predict left as it was."""

from __future__ import annotations

import json
import socket
import urllib.parse

import numpy as np
import pytest

from seldon_wrapper.codecs import seldon_json
from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.item_sources import MEMCACHED_ENV
from seldon_wrapper.rest.app import create_app
from seldon_wrapper.rest.handler import failure_answer, predict_answer
from seldon_wrapper.settings import Settings
from seldon_wrapper.speedups.fast_entry import FastEntry
from tests.conftest import app_with_speedups

SEED_KEY = "ce136f0d0fac274a7d353e672bf4b187"
SEED_RECOMMEND = (
    "/recommend?client=test1&user_id=1&recent_interactions=16,260&exclusion_items="
    f"&data_key={SEED_KEY}&limit=30"
)
SEED_FEATURES = '{"f1":4.8,"f2":3.0,"f3":1.4,"f4":0.1}'
SEED_PREDICT = (
    "/predict?client=test1&json=%7B%22f1%22%3A4.8%2C%22f2%22%3A3.0%2C%22f3%22%3A1.4%2C%22f4%22%3A0.1%7D"
)


class Legacy:
    """Probabilities of two classes from f1 and f2; items scored by their id."""

    feature_names = ["f1", "f2"]

    def __init__(self):
        self.calls = []

    def predict(self, X, names, meta=None):
        X = np.asarray(X, dtype=np.float64)
        total = X[:, :2].sum(axis=1, keepdims=True)
        return np.hstack([X[:, :1] / total, X[:, 1:2] / total]) if X.shape[1] >= 2 else X

    def class_names(self):
        return ["a", "b"]

    def get_items(self, data_key):
        return {SEED_KEY: [16, 32156, 31742, 260, 7], "few": [1, 2]}[data_key]

    def recommend(self, user_id, items, recent_interactions, client, limit):
        self.calls.append((user_id, list(items), recent_interactions, client, limit))
        return [(item, float(item)) for item in items if item not in recent_interactions]


class PlainModel:
    def predict(self, X, names):
        return X


def make_app(user, speedups: bool = False, **settings):
    component = Component(user)
    component.load()
    dataplane = Dataplane(component, Settings(**settings))
    return (app_with_speedups(dataplane) if speedups else create_app(dataplane)), dataplane


@pytest.fixture(scope="module")
def legacy():
    user = Legacy()
    app, dataplane = make_app(user)
    return app.test_client(), user, dataplane


def status_info(response) -> str:
    body = response.get_json()
    assert set(body) == {"status"} and body["status"]["status"] == 1 and body["status"]["code"] == -1
    return body["status"]["info"]


# -- /recommend ---------------------------------------------------------------------------------


def test_seed_recommend_url(legacy):
    client, user, _ = legacy
    response = client.get(SEED_RECOMMEND)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {
        "recommended": [
            {"item": 32156, "score": 1},
            {"item": 31742, "score": 31742 / 32156},
            {"item": 7, "score": 7 / 32156},
        ]
    }
    assert user.calls[-1] == (1, [16, 32156, 31742, 260, 7], [16, 260], "test1", 30)


def test_recommend_by_form_post_with_limit_and_exclusions(legacy):
    client, _, _ = legacy
    form = {"client": "c", "user_id": "9", "exclusion_items": "32156", "data_key": SEED_KEY, "limit": "2"}
    response = client.post("/recommend", data=form)
    assert response.status_code == 200
    assert [entry["item"] for entry in response.get_json()["recommended"]] == [31742, 260]


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("data_key=nope", 404, "Unknown data_key 'nope'"),
        (f"data_key={SEED_KEY}&limit=-1", 400, "limit must not be negative"),
        (f"data_key={SEED_KEY}&limit=ten", 400, "limit must be a whole number"),
    ],
)
def test_recommend_client_mistakes(legacy, query, status, words):
    client, _, _ = legacy
    response = client.get("/recommend?client=test1&" + query)
    assert response.status_code == status
    assert words in status_info(response)
    assert client.get(SEED_RECOMMEND).status_code == 200  # the next request works


def test_recommend_on_a_class_without_recommend_is_a_404():
    app, _ = make_app(PlainModel())
    response = app.test_client().get(SEED_RECOMMEND)
    assert response.status_code == 404
    assert "has no recommend method" in status_info(response)


def test_recommend_with_memcached_down_is_a_503(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(MEMCACHED_ENV, f"127.0.0.1:{port}")
    app, _ = make_app(Legacy())
    client = app.test_client()
    for _ in range(2):  # the failure is not remembered as an unknown key
        response = client.get(SEED_RECOMMEND)
        assert response.status_code == 503
        assert f"memcached 127.0.0.1:{port} is unavailable" in status_info(response)


# -- /predict?client= ---------------------------------------------------------------------------


def test_seed_predict_url(legacy):
    client, _, _ = legacy
    response = client.get(SEED_PREDICT)
    assert response.status_code == 200 and response.mimetype == "application/json"
    a, b = 4.8 / 7.8, 3.0 / 7.8
    assert response.get_json() == {
        "predictions": [
            {"score": a, "classId": "a", "confidence": a},
            {"score": b, "classId": "b", "confidence": a},
        ]
    }
    assert response.data == seldon_json.dumps(response.get_json())  # sorted keys, one line


def test_predict_by_form_post_uses_the_class_feature_order(legacy):
    client, _, _ = legacy
    response = client.post("/predict", data={"client": "test1", "json": '{"f2": 1, "f1": 3}'})
    assert response.status_code == 200
    assert [p["score"] for p in response.get_json()["predictions"]] == [0.75, 0.25]


@pytest.mark.parametrize(
    ("features", "status", "words"),
    [
        ('{"f1": "x", "f2": 1}', 400, "Feature 'f1' must be a number"),
        ('{"f1": 1}', 400, "Missing feature 'f2'"),
        ('{"f1": 1,', 400, "Invalid JSON in json field"),
    ],
)
def test_predict_client_mistakes(legacy, features, status, words):
    client, _, _ = legacy
    response = client.get("/predict?client=test1&json=" + urllib.parse.quote(features))
    assert response.status_code == status
    assert words in status_info(response)
    assert client.get(SEED_PREDICT).status_code == 200


# -- v1 /predict is what it was -----------------------------------------------------------------

V1_CALLS = [
    ("", '{"data":{"ndarray":[[1,2]]}}'),
    ("", '{"data":{"names":["f1","f2"],"tensor":{"shape":[1,2],"values":[4.8,3.0]}}}'),
    ("", '{"jsonData":{"f1":4.8}}'),
    ("", '{"f1":4.8,"f2":3.0}'),  # a flat object without client: v1, and v1's answer
    ("client=test1&", '{"data":{"ndarray":[[1,2]]}}'),  # client, but a SeldonMessage
    ("client=test1&", '{"meta":{"tags":{"f1":1}},"data":{"ndarray":[[1,2]]}}'),
    ("client=test1&", '{"jsonData":{"f1":4.8}}'),
]


@pytest.mark.parametrize(("extra", "message"), V1_CALLS)
def test_v1_predict_answers_as_v1(legacy, extra, message):
    client, _, dataplane = legacy
    try:
        expected = predict_answer(dataplane, seldon_json.loads(message))
    except Exception as exc:  # v1 refuses it: so must we, with v1's words
        expected = failure_answer("GET /predict", exc)
    for response in (
        client.get(f"/predict?{extra}json=" + urllib.parse.quote(message)),
        client.post("/predict", data=urllib.parse.parse_qs(extra) | {"json": message}),
    ):
        assert (response.status_code, response.data) == expected


def test_v1_passthrough_keeps_its_raw_body():
    class Raw:
        def predict_raw(self, message):
            return {"jsonData": {"seen": message if isinstance(message, str) else "parsed"}}

    app, _ = make_app(Raw(), payload_passthrough=True)
    response = app.test_client().get("/predict?json=" + urllib.parse.quote(SEED_FEATURES))
    assert response.get_json() == {"jsonData": {"seen": SEED_FEATURES}}


def test_speedups_leave_v0_calls_to_flask_and_v1_json_posts_to_the_fast_entry():
    user = Legacy()
    app, dataplane = make_app(user, speedups=True)
    assert isinstance(app.wsgi_app, FastEntry)
    client = app.test_client()
    plain = make_app(Legacy())[0].test_client()
    for call in (
        lambda c: c.get(SEED_PREDICT),
        lambda c: c.post("/predict", data={"client": "test1", "json": SEED_FEATURES}),
        lambda c: c.get(SEED_RECOMMEND),
    ):
        fast, flask = call(client), call(plain)
        assert (fast.status_code, fast.data) == (flask.status_code, flask.data)
        assert fast.status_code == 200
    body = '{"data":{"ndarray":[[1.0,3.0]]}}'
    response = client.post("/predict", data=body, headers={"Content-Type": "application/json"})
    assert response.data == predict_answer(dataplane, json.loads(body))[1]
