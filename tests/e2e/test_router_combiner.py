"""Routers (/route) and combiners (/aggregate) against real servers (spec 2.6.4, 2.6.5, 3.9, 3.10)."""

import pytest
import requests

from tests.conftest import module_server

router = module_server("E2eRouter")
combiner = module_server("E2eCombiner")
defaults = module_server("E2eComponentDefaults")


def post(server, path, payload):
    return requests.post(server.url + path, json=payload, timeout=10)


def error(info, reason="MICROSERVICE_BAD_DATA"):
    return {"status": {"code": -1, "info": info, "reason": reason, "status": 1}}


# -- router ---------------------------------------------------------------------------------


def test_route_int_keeps_puid_but_not_request_tags(router):
    response = post(router, "/route", {"meta": {"puid": "p", "tags": {"x": 1}}, "data": {"ndarray": [[1]]}})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.text == '{"data":{"names":["t:0"],"ndarray":[[1]]},"meta":{"puid":"p"}}\n'


def test_route_tensor_request_answers_tensor(router):
    response = post(router, "/route", {"data": {"tensor": {"shape": [1, 1], "values": [1]}}})
    assert response.status_code == 200
    assert response.json() == {
        "data": {"names": ["t:0"], "tensor": {"shape": [1, 1], "values": [1]}},
        "meta": {},
    }


def test_route_receives_request_meta(router):
    payload = {
        "meta": {"tags": {"route_to": 2}, "metrics": [{"key": "k", "type": "GAUGE", "value": 1}]},
        "data": {"ndarray": [[0]]},
    }
    response = post(router, "/route", payload)
    assert response.status_code == 200
    # The route came from meta.tags; request tags and metrics are not carried into the answer.
    assert response.json() == {"data": {"names": ["t:0"], "ndarray": [[2]]}, "meta": {}}


def test_route_via_form_field(router):
    response = requests.post(router.url + "/route", data={"json": '{"data":{"ndarray":[[3]]}}'}, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"data": {"names": ["t:0"], "ndarray": [[3]]}, "meta": {}}


def test_route_numpy_int_is_rejected(router):
    response = post(router, "/route", {"data": {"ndarray": [[-1]]}})
    assert response.status_code == 400
    assert response.json() == error("Routing response must be int but got 1")


def test_route_true_is_accepted_as_bool_ndarray(router):
    response = post(router, "/route", {"data": {"ndarray": [[-2]]}})
    assert response.status_code == 200
    assert response.text == '{"data":{"names":["t:0"],"ndarray":[[true]]},"meta":{}}\n'


def test_route_seldon_response_runtime_tags(router):
    response = post(router, "/route", {"meta": {"puid": "q"}, "data": {"ndarray": [[-3]]}})
    assert response.status_code == 200
    assert response.json() == {
        "data": {"names": ["t:0"], "ndarray": [[0]]},
        "meta": {"puid": "q", "tags": {"routed": "yes"}},
    }


def test_route_not_defined(combiner):
    response = post(combiner, "/route", {"data": {"ndarray": [[1]]}})
    assert response.status_code == 400
    assert response.json() == error("Route not defined")


def test_route_seldon_component_default(defaults):
    response = post(defaults, "/route", {"data": {"ndarray": [[1]]}})
    assert response.status_code == 400
    assert response.json() == error("route is not implemented")


# -- combiner -------------------------------------------------------------------------------


def test_aggregate_json_list_unions_tags(combiner):
    payload = [
        {"meta": {"puid": "first", "tags": {"input-1": "yes", "common": 1}}, "data": {"ndarray": [[1, 2]]}},
        {"meta": {"puid": "second", "tags": {"input-2": "yes", "common": 2}}, "data": {"ndarray": [[3, 4]]}},
    ]
    response = post(combiner, "/aggregate", payload)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"names": ["t:0", "t:1"], "ndarray": [[4, 6]]},
        "meta": {"puid": "first", "tags": {"common": 2, "input-1": "yes", "input-2": "yes", "mytag": 1}},
    }


def test_aggregate_seldon_messages_object_first_message_decides_tensor(combiner):
    payload = {
        "seldonMessages": [
            {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}},
            {"data": {"ndarray": [[10, 20]]}},
        ]
    }
    response = post(combiner, "/aggregate", payload)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [11, 22]}},
        "meta": {"tags": {"mytag": 1}},
    }


def test_aggregate_first_message_decides_ndarray(combiner):
    payload = [
        {"data": {"ndarray": [[10, 20]]}},
        {"data": {"tensor": {"shape": [1, 2], "values": [1.5, 2]}}},
    ]
    response = post(combiner, "/aggregate", payload)
    assert response.status_code == 200
    assert (
        response.text
        == '{"data":{"names":["t:0","t:1"],"ndarray":[[11.5,22.0]]},"meta":{"tags":{"mytag":1}}}\n'
    )


def test_aggregate_merges_metrics_and_request_path(combiner):
    payload = [
        {
            "meta": {"metrics": [{"key": "a", "type": "COUNTER", "value": 1}], "requestPath": {"m1": "img1"}},
            "data": {"ndarray": [[1]]},
        },
        {
            "meta": {"metrics": [{"key": "b", "type": "GAUGE", "value": 2}], "requestPath": {"m2": "img2"}},
            "data": {"ndarray": [[1]]},
        },
    ]
    response = post(combiner, "/aggregate", payload)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"names": ["t:0"], "ndarray": [[2]]},
        "meta": {
            "metrics": [
                {"key": "a", "type": "COUNTER", "value": 1},
                {"key": "b", "type": "GAUGE", "value": 2},
            ],
            "requestPath": {"m1": "img1", "m2": "img2"},
            "tags": {"mytag": 1},
        },
    }


def test_aggregate_passes_names_per_message(combiner):
    payload = [
        {"data": {"names": ["a", "b"], "ndarray": [[1, 2]]}},
        {"data": {"names": ["c", "d"], "ndarray": [[3, 4]]}},
    ]
    response = post(combiner, "/aggregate", payload)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"names": ["t:0", "t:1"], "ndarray": [[4, 6]]},
        "meta": {"tags": {"mytag": 1, "names": [["a", "b"], ["c", "d"]]}},
    }


def test_aggregate_decodes_each_message_payload(combiner):
    payload = [{"strData": "a"}, {"jsonData": {"k": 1}}, {"binData": "aGk="}]
    response = post(combiner, "/aggregate", payload)
    assert response.status_code == 200
    assert response.json() == {
        "jsonData": {"kinds": ["str", "dict", "bytes"]},
        "meta": {"tags": {"mytag": 1}},
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"wrong": [{"strData": "a"}]},
        {"seldonMessages": {"strData": "a"}},
        "just a string",
    ],
)
def test_aggregate_rejects_non_lists(combiner, payload):
    response = post(combiner, "/aggregate", payload)
    assert response.status_code == 400
    assert response.json() == error(f"Invalid request data type: {payload}")


def test_aggregate_rejects_message_without_payload(combiner):
    response = post(combiner, "/aggregate", [{"data": {"ndarray": [[1]]}}, {"meta": {"puid": "x"}}])
    assert response.status_code == 400
    assert response.json() == error("Invalid request data type: {'meta': {'puid': 'x'}}")


def test_aggregate_rejects_bad_tensor_shape(combiner):
    payload = [{"data": {"tensor": {"shape": [3], "values": [1, 2]}}}, {"data": {"ndarray": [1, 2, 3]}}]
    response = post(combiner, "/aggregate", payload)
    assert response.status_code == 400
    body = response.json()["status"]
    assert body["reason"] == "MICROSERVICE_BAD_DATA"
    assert "cannot reshape array of size 2 into shape (3,)" in body["info"]


@pytest.mark.parametrize("payload", [[], {"seldonMessages": []}])
def test_aggregate_empty_list_is_a_client_error(combiner, payload):
    response = post(combiner, "/aggregate", payload)
    assert response.status_code == 400
    body = response.json()["status"]
    assert (body["code"], body["reason"], body["status"]) == (-1, "MICROSERVICE_BAD_DATA", 1)


def test_aggregate_not_defined(router):
    response = post(router, "/aggregate", [{"data": {"ndarray": [[1]]}}])
    assert response.status_code == 400
    assert response.json() == error("Aggregate not defined")


def test_aggregate_seldon_component_default(defaults):
    response = post(defaults, "/aggregate", [{"data": {"ndarray": [[1]]}}])
    assert response.status_code == 400
    assert response.json() == error("aggregate is not implemented")
