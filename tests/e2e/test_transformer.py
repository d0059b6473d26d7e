"""Input and output transformers against real servers (spec 2.6.3, 3.7, 5.3)."""

import pytest
import requests

from tests.conftest import module_server

transformer = module_server("E2eTransformer")
identity = module_server("IdentityModel")
defaults = module_server("E2eComponentDefaults")


def post(server, path, payload):
    return requests.post(server.url + path, json=payload, timeout=10)


def test_transform_input_doubles(transformer):
    response = post(transformer, "/transform-input", {"data": {"names": ["a", "b"], "ndarray": [[1, 2]]}})
    assert response.status_code == 200
    assert response.text == '{"data":{"names":["t:0","t:1"],"ndarray":[[2,4]]},"meta":{}}\n'


def test_transform_input_keeps_request_meta(transformer):
    payload = {"meta": {"puid": "t1", "tags": {"k": "v"}, "routing": {"r": 1}}, "data": {"ndarray": [[1]]}}
    response = post(transformer, "/transform-input", payload)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"names": ["t:0"], "ndarray": [[2]]},
        "meta": {"puid": "t1", "tags": {"k": "v"}},
    }


def test_transform_input_receives_request_meta(transformer):
    meta = {"puid": "abc", "tags": {"a": 1}}
    response = post(transformer, "/transform-input", {"strData": "probe", "meta": meta})
    assert response.status_code == 200
    assert response.json() == {"jsonData": {"meta_seen": meta}, "meta": meta}


def test_transform_input_meta_is_none_without_request_meta(transformer):
    response = post(transformer, "/transform-input", {"strData": "probe"})
    assert response.status_code == 200
    assert response.json() == {"jsonData": {"meta_seen": None}, "meta": {}}


def test_transform_output_without_meta_parameter(transformer):
    response = post(
        transformer, "/transform-output", {"data": {"tensor": {"shape": [2], "values": [1.5, 2]}}}
    )
    assert response.status_code == 200
    assert response.text == '{"data":{"names":[],"tensor":{"shape":[2],"values":[4.5,6.0]}},"meta":{}}\n'


def test_transform_output_with_meta_in_request(transformer):
    response = post(transformer, "/transform-output", {"strData": "shout", "meta": {"puid": "o1"}})
    assert response.status_code == 200
    assert response.json() == {"meta": {"puid": "o1"}, "strData": "SHOUT"}


def test_transform_output_form_field(transformer):
    response = requests.post(
        transformer.url + "/transform-output", data={"json": '{"data":{"ndarray":[[1,2]]}}'}, timeout=10
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"names": ["t:0", "t:1"], "ndarray": [[3, 6]]}, "meta": {}}


@pytest.mark.parametrize("path", ["/transform-input", "/transform-output"])
@pytest.mark.parametrize("server_name", ["identity", "defaults"])
def test_missing_transform_is_identity_with_new_names(request, server_name, path):
    server = request.getfixturevalue(server_name)
    response = post(
        server, path, {"meta": {"puid": "i"}, "data": {"names": ["a", "b"], "ndarray": [[1, 2.5]]}}
    )
    assert response.status_code == 200
    assert response.text == '{"data":{"names":["t:0","t:1"],"ndarray":[[1.0,2.5]]},"meta":{"puid":"i"}}\n'


@pytest.mark.parametrize("path", ["/transform-input", "/transform-output"])
def test_missing_transform_identity_for_other_payloads(identity, path):
    assert post(identity, path, {"strData": "x"}).json() == {"meta": {}, "strData": "x"}
    assert post(identity, path, {"jsonData": {"a": [1, 2]}}).json() == {"jsonData": {"a": [1, 2]}, "meta": {}}
    tensor = post(identity, path, {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}})
    assert tensor.json() == {
        "data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [1, 2]}},
        "meta": {},
    }
