"""Routers, combiners, transformers and feedback over REST, as users of the original tested them."""

import json

import numpy as np

from seldon_core.metrics import SeldonMetrics
from seldon_core.user_model import SeldonComponent, SeldonResponse
from seldon_core.wrapper import get_metrics_microservice, get_rest_microservice


class UserRouter:
    def __init__(self):
        self.feedback = []

    def route(self, features, feature_names):
        return 1 if features[0][0] > 10 else 0

    def tags(self):
        return {"router": "yes"}

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        self.feedback.append((features.tolist(), list(feature_names), reward, truth.tolist(), routing))


class UserRouterBad:
    def route(self, features, feature_names):
        return np.int64(1)


class UserCombiner:
    def aggregate(self, features_list, feature_names_list):
        return sum(np.asarray(features) for features in features_list)

    def tags(self):
        return {"mytag": 1}


class UserTransformer(SeldonComponent):
    def transform_input(self, X, feature_names, meta=None):
        return X * 2

    def transform_output(self, X, feature_names, meta=None):
        return SeldonResponse(X + 1, tags={"out": "done"})


class UserFeedbackCounter:
    def __init__(self):
        self.rewards = []

    def predict(self, X, names):
        return X

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        self.rewards.append(reward)
        return SeldonResponse([], metrics=[{"type": "COUNTER", "key": "fb", "value": 1}])


def test_router():
    client = get_rest_microservice(UserRouter()).test_client()
    rv = client.get('/route?json={"meta":{"puid":"p","tags":{"x":1}},"data":{"ndarray":[[20,2]]}}')
    assert rv.status_code == 200
    assert json.loads(rv.data) == {
        "data": {"names": ["t:0"], "ndarray": [[1]]},
        "meta": {"puid": "p", "tags": {"router": "yes"}},
    }
    rv = client.post("/route", json={"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}})
    assert json.loads(rv.data)["data"] == {"names": ["t:0"], "tensor": {"shape": [1, 1], "values": [0]}}


def test_router_must_return_int():
    client = get_rest_microservice(UserRouterBad()).test_client()
    rv = client.get('/route?json={"data":{"ndarray":[[1]]}}')
    assert rv.status_code == 400
    assert json.loads(rv.data)["status"]["info"] == "Routing response must be int but got 1"


def test_route_not_defined():
    client = get_rest_microservice(UserCombiner()).test_client()
    rv = client.get('/route?json={"data":{"ndarray":[[1]]}}')
    assert rv.status_code == 400
    assert json.loads(rv.data)["status"]["info"] == "Route not defined"


def test_router_feedback_receives_routing():
    user_object = UserRouter()
    client = get_rest_microservice(user_object).test_client()
    feedback = {
        "request": {"data": {"names": ["a", "b"], "ndarray": [[1, 2]]}},
        "response": {"meta": {"routing": {"0": 1}}, "data": {"ndarray": [[1]]}},
        "reward": 0.5,
        "truth": {"data": {"ndarray": [[3]]}},
    }
    rv = client.post("/send-feedback", json=feedback)
    assert rv.status_code == 200
    assert user_object.feedback == [([[1.0, 2.0]], ["a", "b"], 0.5, [[3.0]], 1)]
    assert json.loads(rv.data) == {"data": {"ndarray": []}, "meta": {"tags": {"router": "yes"}}}


def test_feedback_routing_key_follows_predictive_unit_id(monkeypatch):
    monkeypatch.setenv("PREDICTIVE_UNIT_ID", "myrouter")
    user_object = UserRouter()
    client = get_rest_microservice(user_object).test_client()
    feedback = {
        "request": {"data": {"ndarray": [[1]]}},
        "response": {"meta": {"routing": {"myrouter": 2, "0": 1}}},
    }
    assert client.post("/api/v1.0/feedback", json=feedback).status_code == 200
    assert user_object.feedback[0][-1] == 2


def test_feedback_invalid_json_is_400():
    client = get_rest_microservice(UserRouter()).test_client()
    rv = client.post("/send-feedback", json={"requestX": {}})
    j = json.loads(rv.data)
    assert rv.status_code == 400
    assert j["status"]["info"].startswith(
        'Invalid JSON: Message type "seldon.protos.Feedback" has no field named "requestX"'
    )


def test_feedback_metrics_and_reward_counters():
    user_object = UserFeedbackCounter()
    seldon_metrics = SeldonMetrics()
    client = get_rest_microservice(user_object, seldon_metrics).test_client()
    for reward in (1, 0, 2.5):
        rv = client.post("/send-feedback", json={"request": {"data": {"ndarray": [[1]]}}, "reward": reward})
        assert rv.status_code == 200
    assert user_object.rewards == [1.0, 0.0, 2.5]
    text = get_metrics_microservice(seldon_metrics).test_client().get("/metrics").data.decode()
    lines = {
        line.split("{")[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and line[0] != "#"
    }
    assert lines["seldon_api_model_feedback_total"] == 2.0  # a zero reward is not counted
    assert lines["seldon_api_model_feedback_reward_total"] == 3.5
    assert lines["fb_total"] == 3.0


def test_combiner():
    client = get_rest_microservice(UserCombiner()).test_client()
    messages = [
        {"meta": {"puid": "first", "tags": {"input-1": "yes", "common": 1}}, "data": {"ndarray": [[1, 2]]}},
        {"meta": {"tags": {"input-2": "yes", "common": 2}}, "data": {"ndarray": [[3, 4]]}},
    ]
    rv = client.post("/aggregate", json=messages)
    assert rv.status_code == 200
    j = json.loads(rv.data)
    assert j["data"] == {"names": ["t:0", "t:1"], "ndarray": [[4, 6]]}
    assert j["meta"] == {
        "puid": "first",
        "tags": {"common": 2, "input-1": "yes", "input-2": "yes", "mytag": 1},
    }
    rv = client.post("/aggregate", json={"seldonMessages": messages})
    assert json.loads(rv.data)["data"]["ndarray"] == [[4, 6]]


def test_combiner_bad_request():
    client = get_rest_microservice(UserCombiner()).test_client()
    rv = client.post("/aggregate", json={"wrong": []})
    assert rv.status_code == 400
    assert json.loads(rv.data)["status"]["info"] == "Invalid request data type: {'wrong': []}"


def test_aggregate_not_defined():
    client = get_rest_microservice(UserRouter()).test_client()
    rv = client.post("/aggregate", json=[{"data": {"ndarray": [1]}}])
    assert rv.status_code == 400
    assert json.loads(rv.data)["status"]["info"] == "Aggregate not defined"


def test_transformer():
    client = get_rest_microservice(UserTransformer()).test_client()
    rv = client.get('/transform-input?json={"data":{"names":["a"],"ndarray":[[1,2]]}}')
    assert json.loads(rv.data) == {"data": {"names": ["t:0", "t:1"], "ndarray": [[2, 4]]}, "meta": {}}
    rv = client.post("/transform-output", json={"data": {"tensor": {"shape": [2], "values": [1, 2]}}})
    assert json.loads(rv.data) == {
        "data": {"names": [], "tensor": {"shape": [2], "values": [2, 3]}},
        "meta": {"tags": {"out": "done"}},
    }


def test_transformer_defaults_to_identity():
    client = get_rest_microservice(UserCombiner()).test_client()
    rv = client.get('/transform-input?json={"data":{"names":["a","b"],"ndarray":[[1,2]]}}')
    assert json.loads(rv.data) == {
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]},
        "meta": {"tags": {"mytag": 1}},
    }
