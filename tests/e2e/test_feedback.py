"""Feedback (/send-feedback, /api/v1.0/feedback, /api/v0.1/feedback) on real servers (spec 2.6.2, 3.8)."""

import json

import pytest
import requests

from tests.conftest import module_server, start_server

identity = module_server("IdentityModel")


def _recording_server(model, module_tmp, **env):
    record = module_tmp / f"{model}-{len(env)}-record.json"
    parameters = [{"name": "record_path", "value": str(record), "type": "STRING"}]
    server = start_server(
        model, tmp_path=module_tmp, env={"PREDICTIVE_UNIT_PARAMETERS": json.dumps(parameters), **env}
    )
    server.extra["record"] = record
    return server


@pytest.fixture(scope="module")
def feedback(module_tmp):
    server = _recording_server("E2eFeedback", module_tmp)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def named_unit(module_tmp):
    server = _recording_server(
        "E2eFeedback", module_tmp, PREDICTIVE_UNIT_ID="fbnode", PREDICTIVE_UNIT_IMAGE="repo/fb:1.0"
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def no_routing(module_tmp):
    server = _recording_server("E2eFeedbackNoRouting", module_tmp)
    yield server
    server.stop()


def send(server, payload, path="/send-feedback"):
    record = server.extra.get("record")
    if record is not None and record.exists():
        record.unlink()
    return requests.post(server.url + path, json=payload, timeout=10)


def recorded(server):
    return json.loads(server.extra["record"].read_text())


FULL_FEEDBACK = {
    "request": {
        "meta": {"puid": "fb1", "tags": {"x": "y"}},
        "data": {"names": ["a", "b"], "ndarray": [[1, 2]]},
    },
    "response": {"meta": {"routing": {"0": 1}}, "data": {"ndarray": [[0.9]]}},
    "reward": 1,
    "truth": {"data": {"ndarray": [[3]]}},
}


@pytest.mark.parametrize("path", ["/send-feedback", "/api/v1.0/feedback", "/api/v0.1/feedback"])
def test_send_feedback_receives_floats_names_reward_truth_routing(feedback, path):
    response = send(feedback, FULL_FEEDBACK, path)
    assert response.status_code == 200
    # The template answer [] for an ndarray request; puid kept, request tags not carried.
    assert response.json() == {"data": {"ndarray": []}, "meta": {"puid": "fb1"}}
    assert recorded(feedback) == {
        "features": [[1.0, 2.0]],
        "features_dtype": "float64",
        "feature_names": ["a", "b"],
        "reward": 1.0,
        "reward_type": "float",
        "truth": [[3.0]],
        "truth_dtype": "float64",
        "routing": 1,
        "routing_type": "int",
    }


def test_feedback_returning_array_answers_float_tensor(feedback):
    payload = {"request": {"data": {"tensor": {"shape": [1, 2], "values": [5, 6]}}}, "reward": 2}
    response = send(feedback, payload, "/api/v1.0/feedback")
    assert response.status_code == 200
    assert response.text == (
        '{"data":{"names":["t:0","t:1"],"tensor":{"shape":[1,2],"values":[1.0,2.0]}},"meta":{}}\n'
    )
    record = recorded(feedback)
    assert (record["features"], record["features_dtype"]) == ([[5.0, 6.0]], "float64")
    assert (record["routing"], record["truth"]) == (None, [])


def test_feedback_without_request(feedback):
    response = send(feedback, {"reward": 0.5})
    assert response.status_code == 200
    assert response.json() == {"data": {"tensor": {"shape": [0]}}, "meta": {}}
    record = recorded(feedback)
    assert record["features"] == []
    assert record["feature_names"] == []
    assert (record["reward"], record["routing"], record["truth"]) == (0.5, None, [])


def test_feedback_with_json_form_field(feedback):
    form = {"json": json.dumps({"request": {"data": {"ndarray": [[7]]}}, "reward": 2})}
    response = requests.post(feedback.url + "/send-feedback", data=form, timeout=10)
    assert response.status_code == 200
    assert response.text == '{"data":{"names":["t:0","t:1"],"ndarray":[[1.0,2.0]]},"meta":{}}\n'
    assert recorded(feedback)["features"] == [[7.0]]


def test_feedback_routing_only_from_this_unit(feedback):
    payload = dict(FULL_FEEDBACK, response={"meta": {"routing": {"other-node": 3}}})
    response = send(feedback, payload)
    assert response.status_code == 200
    assert recorded(feedback)["routing"] is None


def test_feedback_routing_key_is_predictive_unit_id(named_unit):
    payload = dict(FULL_FEEDBACK, response={"meta": {"routing": {"0": 1, "fbnode": 2}}})
    response = send(named_unit, payload)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"ndarray": []},
        "meta": {"puid": "fb1", "requestPath": {"fbnode": "repo/fb:1.0"}},
    }
    assert recorded(named_unit)["routing"] == 2


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"requestX": {"data": {"ndarray": [[1]]}}}, 'has no field named "requestX"'),
        ({"reward": "lots"}, "reward"),
    ],
)
def test_feedback_invalid_json_is_400(feedback, payload, fragment):
    response = send(feedback, payload)
    assert response.status_code == 400
    body = response.json()["status"]
    assert (body["code"], body["reason"], body["status"]) == (-1, "MICROSERVICE_BAD_DATA", 1)
    assert body["info"].startswith("Invalid JSON: ")
    assert fragment in body["info"]
    assert not feedback.extra["record"].exists()


def test_send_feedback_without_routing_parameter(no_routing):
    response = send(no_routing, FULL_FEEDBACK)
    assert response.status_code == 200
    assert response.json() == {"data": {"ndarray": []}, "meta": {"puid": "fb1"}}
    assert recorded(no_routing) == {"features": [[1.0, 2.0]], "reward": 1.0, "truth": [[3.0]]}


@pytest.mark.parametrize("path", ["/send-feedback", "/api/v1.0/feedback"])
def test_model_without_send_feedback_answers_empty_data(identity, path):
    response = requests.post(
        identity.url + path, json={"request": {"data": {"ndarray": [[1, 2]]}}, "reward": 1}, timeout=10
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"ndarray": []}, "meta": {}}
    empty = requests.post(identity.url + path, json={"reward": 1}, timeout=10)
    assert empty.status_code == 200
    assert empty.json() == {"data": {"tensor": {"shape": [0]}}, "meta": {}}


def test_feedback_with_nan_tags_reaches_the_model(feedback):
    # Only the non-standard NaN token carries it; the original failed with 500 (docs/compatibility.md).
    body = '{"request": {"meta": {"tags": {"score": NaN}}, "data": {"ndarray": [[4]]}}, "reward": 1}'
    response = requests.post(
        feedback.url + "/send-feedback", data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 200
    assert recorded(feedback)["features"] == [[4.0]]
