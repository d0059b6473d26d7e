"""The pre-Core Seldon microservice REST API on the real server, beside an unchanged v1 API.

One class (tests/models/V0Legacy.py) serves /recommend, the old /predict?client=&json= and the
v1 routes from one process, with the speed machinery on and off.
"""

from __future__ import annotations

import importlib.util
import json
import urllib.parse

import numpy as np
import pytest
import requests

from seldon_wrapper.codecs import seldon_json
from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.item_sources import MEMCACHED_ENV
from seldon_wrapper.rest.handler import predict_answer
from seldon_wrapper.settings import Settings
from tests.conftest import MODELS_DIR, free_port, start_server
from tests.e2e.metrics_helpers import scrape

# The two example calls of the Seldon documentation, as the Seldon server made them.
SEED_KEY = "ce136f0d0fac274a7d353e672bf4b187"
SEED_RECOMMEND = (
    "/recommend?client=test1&user_id=1&recent_interactions=16,260&exclusion_items="
    f"&data_key={SEED_KEY}&limit=30"
)
SEED_PREDICT = (
    "/predict?client=test1&json=%7B%22f1%22%3A4.8%2C%22f2%22%3A3.0%2C%22f3%22%3A1.4%2C%22f4%22%3A0.1%7D"
)
SEED_FEATURES = {"f1": 4.8, "f2": 3.0, "f3": 1.4, "f4": 0.1}
V1_MESSAGE = '{"data":{"ndarray":[[4.8,3.0,1.4,0.1]]}}'


def _model_class():
    spec = importlib.util.spec_from_file_location("v0_legacy_model", MODELS_DIR / "V0Legacy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODEL = _model_class()


def v1_answer(message: str) -> bytes:
    """What the v1 API answers for ``message`` (the one v1 answer, computed in this process)."""
    component = Component(MODEL.V0Legacy())
    component.load()
    return predict_answer(Dataplane(component, Settings()), seldon_json.loads(message))[1]


@pytest.fixture(scope="module", params=["true", "false"], ids=["speedups", "plain"])
def server(request, tmp_path_factory):
    server = start_server(
        "V0Legacy",
        "--service-type",
        "RECOMMENDER",
        env={"SELDON_SPEEDUPS": request.param},
        tmp_path=tmp_path_factory.mktemp("v0"),
    )
    yield server
    server.stop()


def v1_error(response: requests.Response) -> str:
    """The info of a v1 error body (and that it is one)."""
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"status"}
    assert body["status"]["code"] == -1 and body["status"]["status"] == 1
    return body["status"]["info"]


def check_recommended(answer: dict, limit: int, excluded: set) -> list:
    """The seed's answer format: items with scores 0..1, best (1) first, at most limit."""
    assert set(answer) == {"recommended"}
    entries = answer["recommended"]
    assert 0 < len(entries) <= limit
    for entry in entries:
        assert set(entry) == {"item", "score"}
        assert 0 <= entry["score"] <= 1
        assert entry["item"] not in excluded
    scores = [entry["score"] for entry in entries]
    assert scores == sorted(scores, reverse=True) and scores[0] == 1
    return [entry["item"] for entry in entries]


# -- /recommend ---------------------------------------------------------------------------------


def test_seed_recommend_url(server):
    response = requests.get(server.url + SEED_RECOMMEND, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    items = check_recommended(response.json(), 30, {16, 260})
    assert items == [500, 501, 502, 31742, 32156]
    assert response.json()["recommended"][1] == {"item": 501, "score": (1 / 242) / (1 / 241)}


def test_recommend_limit_and_exclusions_by_query_and_form(server):
    params = {"client": "test1", "user_id": "1", "recent_interactions": "16,260"}
    params |= {"exclusion_items": "500,502", "data_key": SEED_KEY, "limit": "2"}
    by_query = requests.get(server.url + "/recommend", params=params, timeout=10)
    by_form = requests.post(server.url + "/recommend", data=params, timeout=10)
    for response in (by_query, by_form):
        assert response.status_code == 200, response.text
        assert check_recommended(response.json(), 2, {16, 260, 500, 502}) == [501, 31742]
    assert by_query.content == by_form.content


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("data_key=nope", 404, "Unknown data_key 'nope': no items to score"),
        (f"data_key={SEED_KEY}&limit=-3", 400, "limit must not be negative, got -3"),
        (f"data_key={SEED_KEY}&limit=3.5", 400, "limit must be a whole number, got '3.5'"),
    ],
)
def test_recommend_client_mistakes(server, query, status, words):
    response = requests.get(f"{server.url}/recommend?client=test1&user_id=1&{query}", timeout=10)
    assert response.status_code == status
    assert v1_error(response) == words
    assert requests.get(server.url + SEED_RECOMMEND, timeout=10).status_code == 200


# -- /predict?client= ---------------------------------------------------------------------------


def expected_predictions() -> dict:
    scores = MODEL.V0Legacy().predict(np.array([list(SEED_FEATURES.values())]), None)[0]
    best = float(scores.max())
    return {
        "predictions": [
            {"score": float(score), "classId": class_id, "confidence": best}
            for score, class_id in zip(scores, ["1", "2", "3"], strict=True)
        ]
    }


def test_seed_predict_url(server):
    response = requests.get(server.url + SEED_PREDICT, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == expected_predictions()
    assert response.content == seldon_json.dumps(expected_predictions())  # sorted keys, one line


def test_predict_by_form_post(server):
    form = {"client": "test1", "json": json.dumps(SEED_FEATURES)}
    response = requests.post(server.url + "/predict", data=form, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == expected_predictions()


@pytest.mark.parametrize(
    ("features", "words"),
    [
        ('{"f1": "4.8", "f2": 3.0, "f3": 1.4, "f4": 0.1}', "Feature 'f1' must be a number, got '4.8'"),
        (
            '{"f1": 4.8, "f2": 3.0, "f3": 1.4}',
            "Missing feature 'f4'; the model needs ['f1', 'f2', 'f3', 'f4']",
        ),
        ('{"f1": 4.8', "Invalid JSON in json field"),
    ],
)
def test_predict_client_mistakes(server, features, words):
    response = requests.get(
        f"{server.url}/predict?client=test1&json={urllib.parse.quote(features)}", timeout=10
    )
    assert response.status_code == 400
    assert v1_error(response).startswith(words)
    assert "Traceback" not in server.log()
    assert requests.get(server.url + SEED_PREDICT, timeout=10).json() == expected_predictions()


# -- v1 and the rest of the server, unchanged ---------------------------------------------------


def test_v1_predict_without_client_answers_as_before(server):
    expected = v1_answer(V1_MESSAGE)
    quoted = urllib.parse.quote(V1_MESSAGE)
    json_headers = {"Content-Type": "application/json"}
    for response in (
        requests.get(f"{server.url}/predict?json={quoted}", timeout=10),
        requests.post(server.url + "/predict", data={"json": V1_MESSAGE}, timeout=10),
        requests.post(server.url + "/predict", data=V1_MESSAGE, headers=json_headers, timeout=10),
        requests.post(
            server.url + "/api/v1.0/predictions", data=V1_MESSAGE, headers=json_headers, timeout=10
        ),
    ):
        assert (response.status_code, response.content) == (200, expected)
    # A flat feature object without client is still a v1 request (and v1 refuses it).
    flat = json.dumps(SEED_FEATURES)
    response = requests.get(f"{server.url}/predict?json={urllib.parse.quote(flat)}", timeout=10)
    assert response.status_code == 400
    assert v1_error(response).startswith("Invalid request data type")
    # client with a SeldonMessage is v1 too.
    response = requests.get(f"{server.url}/predict?client=test1&json={quoted}", timeout=10)
    assert (response.status_code, response.content) == (200, expected)


def test_health_routes(server):
    assert requests.get(server.url + "/health/ping", timeout=10).text == "pong"
    response = requests.get(server.url + "/health/status", timeout=10)
    assert (response.status_code, response.json()) == (200, {"meta": {}, "strData": "healthy"})


def test_metrics_count_the_v0_routes(server):
    requests.get(server.url + SEED_RECOMMEND, timeout=10)
    requests.get(server.url + SEED_PREDICT, timeout=10)
    requests.get(server.url + "/recommend?data_key=nope", timeout=10)
    exposition = scrape(server)
    total = "seldon_api_model_requests_total"
    assert exposition.total(total, endpoint="/recommend", method="GET", code="200") >= 1
    assert exposition.total(total, endpoint="/recommend", method="GET", code="404") >= 1
    assert exposition.total(total, endpoint="/predict", method="GET", code="200") >= 1


# -- candidates from memcached ------------------------------------------------------------------


def test_memcached_items_down_and_back(tmp_path):
    from tests.unit.test_item_sources import Memcached, pymemcache_set

    port = free_port()
    server = start_server("V0Legacy", env={MEMCACHED_ENV: f"127.0.0.1:{port}"}, tmp_path=tmp_path)
    try:
        response = requests.get(server.url + SEED_RECOMMEND, timeout=10)
        assert response.status_code == 503
        assert v1_error(response).startswith(f"Item source memcached 127.0.0.1:{port} is unavailable")
        store: dict = {}
        memcached = Memcached(port, store)
        try:
            pymemcache_set(port, SEED_KEY, b"[16, 17, 300]")
            response = requests.get(server.url + SEED_RECOMMEND, timeout=10)
            assert response.status_code == 200, response.text
            assert check_recommended(response.json(), 30, {16, 260}) == [17, 300]
            unknown = requests.get(server.url + "/recommend?data_key=other", timeout=10)
            assert unknown.status_code == 404
        finally:
            memcached.stop()
        assert requests.get(server.url + SEED_RECOMMEND, timeout=10).status_code == 503
        memcached = Memcached(port, store)
        try:
            assert requests.get(server.url + SEED_RECOMMEND, timeout=10).status_code == 200
        finally:
            memcached.stop()
    finally:
        server.stop()


def test_hostile_v0_requests_are_refused_and_the_server_keeps_serving(server):
    """The v0 routes sit behind the same REST limits as v1: a body over the limit, a deeply
    nested json=, invalid UTF-8 bytes in a form body."""
    huge = b"client=test1&data_key=" + b"x" * (33 * 1024 * 1024)
    response = requests.post(
        server.url + "/recommend",
        data=huge,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert response.status_code == 413
    deep = "[" * 5000 + "]" * 5000
    response = requests.post(server.url + "/predict", data={"client": "test1", "json": deep}, timeout=10)
    assert response.status_code == 400, response.text
    response = requests.post(
        server.url + "/recommend",
        data=b"client=\xff\xfe&user_id=\xc3&data_key=nope",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code < 500, response.text  # never a server error for bad bytes
    assert requests.get(server.url + SEED_RECOMMEND, timeout=10).status_code == 200
