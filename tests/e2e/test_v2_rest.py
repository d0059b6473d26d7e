"""V2 REST (plain JSON, curl-like) against real servers: the mapping of spec 6.2/6.3, errors,
metadata, readiness, v1 and V2 side by side, and transformers."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import numpy as np
import pytest
import requests

from seldon_wrapper.metadata import v2_validator
from tests.conftest import module_server
from tests.e2e.v2_helpers import (
    TIMEOUT,
    assert_error,
    infer,
    infer_ok,
    infer_url,
    output_array,
    strict_json,
    tensor,
)

probe = module_server("V2Probe")
versioned = module_server(
    "IdentityModel", env={"MODEL_METADATA": '{"name": "ident", "versions": ["v1", "v2"]}'}
)
affine = module_server("V2Affine", "--v2-model-name", "affine", env={"PREDICTIVE_UNIT_ID": "node-a"})
meta_server = module_server("V2Meta")
transformer = module_server("V2Transformer", env={"PREDICTIVE_UNIT_ID": "tx"})
transform_flag = module_server("V2PredictAndTransform", "--v2-method", "transform-input")

PROBE = "V2Probe"
TUTORIAL = {"inputs": [{"name": "sentences", "datatype": "BYTES", "shape": [1, 11], "data": "hello world"}]}
FP32_22 = tensor("x", "FP32", [2, 2], [1.5, 2.5, -3.0, 4.0])


def described(response: dict) -> dict:
    """The JSON document V2Probe's ``describe`` returns (a jsonData-like BYTES output)."""
    (output,) = response["outputs"]
    assert output["datatype"] == "BYTES" and output["shape"] == [1], output
    return json.loads(output["data"][0])


def describe(server, inputs: list, **fields) -> dict:
    body = {"inputs": inputs, "parameters": {"kind": "describe", **fields.pop("parameters", {})}, **fields}
    return described(infer_ok(server, PROBE, body))


def kind(server, name: str, **fields) -> requests.Response:
    body = {"inputs": [tensor("x", "INT64", [1], [1])], "parameters": {"kind": name}, **fields}
    return infer(server, PROBE, body)


# -- health, server metadata, repository -----------------------------------------------------


def test_health_live_and_ready(probe):
    for path in ("/v2/health/live", "/v2/health/ready", f"/v2/models/{PROBE}/ready"):
        response = requests.get(probe.url + path, timeout=TIMEOUT)
        assert response.status_code == 200, (path, response.text)


def test_model_ready_of_unknown_model_is_404_with_error(probe):
    assert_error(
        requests.get(probe.url + "/v2/models/nope/ready", timeout=TIMEOUT), 404, "Model nope not found"
    )


def test_server_metadata(probe):
    for path in ("/v2", "/v2/"):
        response = requests.get(probe.url + path, timeout=TIMEOUT)
        assert response.status_code == 200
        body = response.json()
        assert set(body) >= {"name", "version", "extensions"}
        assert "binary_tensor_data" in body["extensions"]


def test_repository_index_with_an_empty_body(probe):
    response = requests.post(probe.url + "/v2/repository/index", data=b"", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    index = response.json()
    assert isinstance(index, list)
    assert [(entry["name"], entry["state"]) for entry in index] == [(PROBE, "READY")]


def test_repository_index_with_ready_filter(probe):
    response = requests.post(probe.url + "/v2/repository/index", json={"ready": True}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert [entry["name"] for entry in response.json()] == [PROBE]


# -- inference: data forms -------------------------------------------------------------------


def test_infer_flat_and_nested_data_are_the_same(probe):
    flat = infer_ok(probe, PROBE, {"inputs": [tensor("x", "FP32", [2, 3], [1, 2, 3, 4, 5, 6])]})
    nested = infer_ok(probe, PROBE, {"inputs": [tensor("x", "FP32", [2, 3], [[1, 2, 3], [4, 5, 6]])]})
    assert flat == nested
    (output,) = flat["outputs"]
    assert output["name"] == "output-0" and output["datatype"] == "FP32" and output["shape"] == [2, 3]
    np.testing.assert_array_equal(output_array(output), [[1, 2, 3], [4, 5, 6]])
    assert flat["model_name"] == PROBE


def test_single_numeric_input_reaches_predict_with_request_shape_and_dtype(probe):
    doc = describe(probe, [tensor("x", "INT32", [3], [1, 2, 3])])
    assert doc["x"] == {"type": "ndarray", "dtype": "int32", "shape": [3], "value": [1, 2, 3]}
    assert doc["names"] == []


@pytest.mark.parametrize(
    "datatype, data, dtype",
    [
        ("BOOL", [True, False], "bool"),
        ("UINT8", [0, 255], "uint8"),
        ("INT8", [-128, 127], "int8"),
        ("INT16", [-2, 3], "int16"),
        ("UINT64", [0, 2**64 - 1], "uint64"),
        ("FP16", [0.5, -1.25], "float16"),
        ("FP64", [0.1, 1e300], "float64"),
    ],
)
def test_every_datatype_round_trips_as_json(probe, datatype, data, dtype):
    body = {"inputs": [tensor("x", datatype, [2], data)]}
    (output,) = infer_ok(probe, PROBE, body)["outputs"]
    assert output["datatype"] == datatype and output["shape"] == [2]
    assert output["data"] == data
    doc = describe(probe, [tensor("x", datatype, [2], data)])
    assert doc["x"]["dtype"] == dtype


def test_nan_output_is_null_in_json(probe):
    # Spec 6.3: data flat, NaN => null in JSON (bare NaN is not JSON; strict clients reject it).
    response = infer(probe, PROBE, {"inputs": [tensor("x", "FP64", [3], [1.5, None, 2.0])]})
    assert response.status_code == 200
    (output,) = strict_json(response.text)["outputs"]
    assert output["data"] == [1.5, None, 2.0]


def test_request_id_is_echoed_and_is_the_puid(probe):
    response = infer_ok(
        probe, PROBE, {"id": "req-42", "inputs": [FP32_22], "parameters": {"kind": "describe"}}
    )
    assert response["id"] == "req-42"
    assert described(response)["puid"] == "req-42"


def test_request_without_id_still_gets_a_puid(probe):
    doc = describe(probe, [FP32_22])
    assert isinstance(doc["puid"], str) and doc["puid"]


def test_parameters_become_user_tags_and_come_back(probe):
    parameters = {"kind": "describe", "user": "alice", "n": 3, "flag": True}
    response = infer_ok(probe, PROBE, {"inputs": [FP32_22], "parameters": parameters})
    assert described(response)["tags"] == parameters
    assert response["parameters"] == parameters


def test_protocol_parameters_are_not_user_tags(probe):
    parameters = {"kind": "describe", "binary_data_output": False, "content_type": "np", "mine": "x"}
    doc = describe(probe, [FP32_22], parameters=parameters)
    assert doc["tags"] == {"kind": "describe", "mine": "x"}


def test_seed_tutorial_request_is_accepted(probe):
    response = infer_ok(probe, PROBE, TUTORIAL)
    (output,) = response["outputs"]
    assert output["datatype"] == "BYTES"
    assert output["data"] == ["hello world"]


def test_seed_tutorial_string_reaches_the_user_as_plain_str(probe):
    body = {**TUTORIAL, "parameters": {"kind": "describe"}}
    doc = described(infer_ok(probe, PROBE, body))
    assert doc["x"] == {"type": "str", "value": "hello world"}


def test_bytes_tensor_of_several_strings_is_an_array_of_str(probe):
    doc = describe(probe, [tensor("s", "BYTES", [2], ["ab", "cd"])])
    assert doc["x"] == {"type": "ndarray", "dtype": "object", "shape": [2], "value": ["ab", "cd"]}


def test_base64_content_type_gives_the_user_bytes(probe):
    data = base64.b64encode(b"\x00\x01hello").decode()
    doc = describe(probe, [tensor("b", "BYTES", [1], [data], {"content_type": "base64"})])
    assert doc["x"] == {"type": "bytes", "value": {"b64": data}}


def test_several_columnar_inputs_are_stacked_with_names(probe):
    inputs = [tensor("a", "FP64", [3], [1, 2, 3]), tensor("b", "FP64", [3, 1], [[4], [5], [6]])]
    doc = describe(probe, inputs)
    assert doc["names"] == ["a", "b"]
    assert doc["x"] == {
        "type": "ndarray",
        "dtype": "float64",
        "shape": [3, 2],
        "value": [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]],
    }


def test_columnar_inputs_of_different_types_are_stacked_as_objects(probe):
    inputs = [tensor("age", "INT64", [2], [30, 40]), tensor("city", "BYTES", [2], ["Oslo", "Rome"])]
    doc = describe(probe, inputs)
    assert doc["names"] == ["age", "city"]
    assert doc["x"]["shape"] == [2, 2]
    assert doc["x"]["value"] == [[30, "Oslo"], [40, "Rome"]]


def test_inputs_of_unrelated_shapes_are_a_dict(probe):
    inputs = [tensor("img", "FP32", [2, 2], [1, 2, 3, 4]), tensor("k", "INT64", [3], [7, 8, 9])]
    doc = describe(probe, inputs)
    assert doc["names"] == ["img", "k"]
    assert doc["x"]["type"] == "dict"
    assert doc["x"]["value"] == {
        "img": {"type": "ndarray", "dtype": "float32", "shape": [2, 2], "value": [[1.0, 2.0], [3.0, 4.0]]},
        "k": {"type": "ndarray", "dtype": "int64", "shape": [3], "value": [7, 8, 9]},
    }


# -- inference: outputs ----------------------------------------------------------------------


def test_str_result_is_a_bytes_output(probe):
    response = kind(probe, "str")
    assert response.status_code == 200
    (output,) = response.json()["outputs"]
    assert output["datatype"] == "BYTES" and output["shape"] == [1]
    assert output["data"] == ["hello from predict"]


def test_non_utf8_bytes_result_is_base64_in_json(probe):
    response = kind(probe, "bytes")
    assert response.status_code == 200
    (output,) = response.json()["outputs"]
    assert output["datatype"] == "BYTES" and output["shape"] == [1]
    assert output["parameters"]["content_type"] == "base64"
    assert base64.b64decode(output["data"][0]) == b"\x00\xff\x10bin"


def test_utf8_bytes_result_is_text_in_json(probe):
    response = kind(probe, "utf8bytes")
    assert response.status_code == 200
    (output,) = response.json()["outputs"]
    assert output["datatype"] == "BYTES"
    assert output["data"] == ["café"]


def test_dict_result_is_a_json_text_output(probe):
    response = kind(probe, "dict")
    assert response.status_code == 200
    (output,) = response.json()["outputs"]
    assert output["datatype"] == "BYTES" and output["shape"] == [1]
    assert json.loads(output["data"][0]) == {"answer": 42, "label": "yes"}


def test_dict_of_arrays_is_one_output_per_key(probe):
    response = kind(probe, "arrays")
    assert response.status_code == 200
    outputs = {output["name"]: output for output in response.json()["outputs"]}
    assert set(outputs) == {"scores", "labels"}
    assert outputs["scores"]["datatype"] == "FP64" and outputs["scores"]["shape"] == [1, 2]
    assert outputs["scores"]["data"] == [0.25, 0.75]
    assert outputs["labels"]["datatype"] == "BYTES" and outputs["labels"]["data"] == ["a", "b"]


def test_outputs_are_valid_inputs_for_chaining(probe):
    first = infer_ok(probe, PROBE, {"inputs": [tensor("x", "INT64", [2, 2], [1, 2, 3, 4])]})
    second = infer_ok(probe, PROBE, {"inputs": first["outputs"]})
    assert second["outputs"][0]["data"] == [1, 2, 3, 4]


def test_single_requested_output_name_is_used(probe):
    body = {"inputs": [FP32_22], "outputs": [{"name": "prediction"}]}
    (output,) = infer_ok(probe, PROBE, body)["outputs"]
    assert output["name"] == "prediction"
    assert output["data"] == [1.5, 2.5, -3.0, 4.0]


def test_requested_outputs_select_among_several(probe):
    response = kind(probe, "arrays", outputs=[{"name": "labels"}])
    assert response.status_code == 200
    assert [output["name"] for output in response.json()["outputs"]] == ["labels"]


def test_requested_output_order_is_honoured(probe):
    response = kind(probe, "arrays", outputs=[{"name": "labels"}, {"name": "scores"}])
    assert response.status_code == 200
    assert [output["name"] for output in response.json()["outputs"]] == ["labels", "scores"]


@pytest.mark.parametrize(
    "datatype, data",
    [("INT32", [1.5, 2]), ("INT8", [1, 300]), ("FP32", [True, 2.0]), ("FP64", ["1", 2]), ("UINT8", [-1, 1])],
)
def test_values_the_datatype_cannot_hold_are_400_naming_the_input(probe, datatype, data):
    def body(values):
        return {"inputs": [tensor("height", datatype, [2], values)], "parameters": {"kind": "arrays"}}

    message = f"Tensor 'height': data does not match datatype {datatype}"
    assert_error(infer(probe, PROBE, body(data)), 400, message)
    infer_ok(probe, PROBE, body([1, 0]))


def test_json_nested_too_deeply_is_400(probe):
    deep = b'{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": ' + b"[" * 50_000
    response = requests.post(
        infer_url(probe, PROBE),
        data=deep + b"]" * 50_000 + b"}]}",
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert_error(response, 400, "nested deeper than 1024 levels")
    infer_ok(probe, PROBE, {"inputs": [FP32_22], "parameters": {"kind": "arrays"}})


def test_unknown_requested_output_is_400(probe):
    assert_error(kind(probe, "arrays", outputs=[{"name": "nope"}]), 400, "nope")
    body = {"inputs": [FP32_22], "outputs": [{"name": "first"}, {"name": "second"}]}
    assert_error(infer(probe, PROBE, body), 400)


def test_binary_output_on_request_over_plain_json(probe):
    body = {
        "inputs": [tensor("x", "FP32", [2], [1.5, -2.0])],
        "outputs": [{"name": "o", "parameters": {"binary_data": True}}],
    }
    response = infer(probe, PROBE, body)
    assert response.status_code == 200
    head_length = int(response.headers["Inference-Header-Content-Length"])
    head = json.loads(response.content[:head_length])
    (output,) = head["outputs"]
    assert output["parameters"]["binary_data_size"] == 8 and "data" not in output
    np.testing.assert_array_equal(np.frombuffer(response.content[head_length:], "<f4"), [1.5, -2.0])


def test_binary_input_by_hand(probe):
    head = json.dumps(
        {
            "inputs": [
                {"name": "x", "datatype": "INT32", "shape": [3], "parameters": {"binary_data_size": 12}},
                {"name": "s", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": 11}},
            ],
            "parameters": {"kind": "describe"},
        }
    ).encode()
    tail = np.array([7, -8, 9], "<i4").tobytes() + b"\x02\x00\x00\x00ab\x01\x00\x00\x00c"
    response = requests.post(
        infer_url(probe, PROBE),
        data=head + tail,
        headers={"Inference-Header-Content-Length": str(len(head))},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    doc = described(response.json())
    assert doc["names"] == ["x", "s"]
    assert doc["x"] == {
        "type": "dict",
        "value": {
            "x": {"type": "ndarray", "dtype": "int32", "shape": [3], "value": [7, -8, 9]},
            "s": {
                "type": "ndarray",
                "dtype": "object",
                "shape": [2],
                "value": [{"b64": "YWI="}, {"b64": "Yw=="}],
            },
        },
    }


# -- inference: transport ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Type": "application/json"}, {"Content-Type": "application/x-www-form-urlencoded"}],
    ids=["no-content-type", "json", "curl-default"],
)
def test_plain_json_body_with_any_content_type(probe, headers):
    body = json.dumps({"inputs": [FP32_22]}).encode()
    response = requests.post(infer_url(probe, PROBE), data=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == [1.5, 2.5, -3.0, 4.0]


def test_gzip_compressed_body(probe):
    body = gzip.compress(json.dumps({"inputs": [FP32_22], "id": "gz"}).encode())
    response = requests.post(
        infer_url(probe, PROBE), data=body, headers={"Content-Encoding": "gzip"}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == "gz"
    assert response.json()["outputs"][0]["data"] == [1.5, 2.5, -3.0, 4.0]


def test_deflate_compressed_body(probe):
    body = zlib.compress(json.dumps({"inputs": [FP32_22]}).encode())
    response = requests.post(
        infer_url(probe, PROBE), data=body, headers={"Content-Encoding": "deflate"}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text


# -- versions and names ------------------------------------------------------------------------


def test_versioned_paths_of_an_unversioned_model_echo_the_version(probe):
    base = f"{probe.url}/v2/models/{PROBE}/versions/7"
    assert requests.get(base + "/ready", timeout=TIMEOUT).status_code == 200
    metadata = requests.get(base, timeout=TIMEOUT)
    assert metadata.status_code == 200 and metadata.json()["name"] == PROBE
    response = infer_ok(probe, PROBE, {"inputs": [FP32_22]}, version="7")
    assert response["model_version"] == "7"
    assert response["outputs"][0]["data"] == [1.5, 2.5, -3.0, 4.0]


def test_unversioned_response_of_an_unversioned_model_has_no_version(probe):
    assert "model_version" not in infer_ok(probe, PROBE, {"inputs": [FP32_22]})


def test_advertised_versions_are_accepted(versioned):
    for version in ("v1", "v2"):
        response = infer_ok(versioned, "ident", {"inputs": [FP32_22]}, version=version)
        assert response["model_version"] == version
        assert response["model_name"] == "ident"
        ready = requests.get(f"{versioned.url}/v2/models/ident/versions/{version}/ready", timeout=TIMEOUT)
        assert ready.status_code == 200


def test_unknown_version_of_a_versioned_model_is_404(versioned):
    message = "Model ident with version v9 not found"
    assert_error(infer(versioned, "ident", {"inputs": [FP32_22]}, version="v9"), 404, message)
    base = f"{versioned.url}/v2/models/ident/versions/v9"
    assert_error(requests.get(base, timeout=TIMEOUT), 404, message)
    assert_error(requests.get(base + "/ready", timeout=TIMEOUT), 404, message)
    assert infer(versioned, "ident", {"inputs": [FP32_22]}, version="v2").status_code == 200


def test_metadata_name_is_the_model_name(versioned):
    assert infer(versioned, "IdentityModel", {"inputs": [FP32_22]}).status_code == 404
    metadata = requests.get(versioned.url + "/v2/models/ident", timeout=TIMEOUT).json()
    assert metadata["name"] == "ident" and metadata["versions"] == ["v1", "v2"]


def test_v2_model_name_flag_wins_over_predictive_unit_id(affine):
    assert requests.get(affine.url + "/v2/models/affine/ready", timeout=TIMEOUT).status_code == 200
    assert_error(infer(affine, "node-a", {"inputs": [FP32_22]}), 404, "Model node-a not found")
    assert_error(infer(affine, "V2Affine", {"inputs": [FP32_22]}), 404, "Model V2Affine not found")


def test_predictive_unit_id_is_the_model_name(transformer):
    assert requests.get(transformer.url + "/v2/models/tx/ready", timeout=TIMEOUT).status_code == 200
    assert_error(infer(transformer, "V2Transformer", {"inputs": [FP32_22]}), 404)


# -- bad requests --------------------------------------------------------------------------


BAD_BODIES = {
    "unknown datatype": {"inputs": [tensor("x", "INT322", [1], [1])]},
    "shape/data mismatch": {"inputs": [tensor("x", "FP32", [2, 2], [1, 2, 3])]},
    "nested data of the wrong shape": {"inputs": [tensor("x", "INT64", [2, 2], [[1, 2, 3], [4, 5, 6]])]},
    "missing inputs": {"id": "1"},
    "empty inputs": {"inputs": []},
    "input without data": {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1]}]},
    "input without datatype": {"inputs": [{"name": "x", "shape": [1], "data": [1]}]},
    "input without shape": {"inputs": [{"name": "x", "datatype": "FP32", "data": [1]}]},
    "negative shape": {"inputs": [tensor("x", "FP32", [-1], [1])]},
    "text in a numeric tensor": {"inputs": [tensor("x", "FP32", [1], ["abc"])]},
    "int8 out of range": {"inputs": [tensor("x", "INT8", [1], [300])]},
    "number in a BYTES tensor": {"inputs": [tensor("x", "BYTES", [1], [5])]},
    "not base64": {"inputs": [tensor("x", "BYTES", [1], ["not base64!!"], {"content_type": "base64"})]},
    "body is a list": [{"name": "x"}],
    "outputs not a list of objects": {"inputs": [FP32_22], "outputs": ["a"]},
}


@pytest.mark.parametrize("body", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_bad_request_is_400_with_error_and_server_keeps_serving(probe, body):
    assert_error(infer(probe, PROBE, body), 400)
    assert infer(probe, PROBE, {"inputs": [FP32_22]}).status_code == 200


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b"\xff\xfe", b"null"], ids=["malformed", "empty", "binary", "null"]
)
def test_malformed_body_is_400(probe, body):
    response = requests.post(infer_url(probe, PROBE), data=body, timeout=TIMEOUT)
    assert_error(response, 400)
    assert infer(probe, PROBE, {"inputs": [FP32_22]}).status_code == 200


def test_wrong_model_name_is_404(probe):
    assert_error(infer(probe, "nope", {"inputs": [FP32_22]}), 404, "Model nope not found")
    assert_error(requests.get(probe.url + "/v2/models/nope", timeout=TIMEOUT), 404, "Model nope not found")


def binary_post(server, head: dict, tail: bytes, head_length: int | None = None) -> requests.Response:
    head_bytes = json.dumps(head).encode()
    length = len(head_bytes) if head_length is None else head_length
    return requests.post(
        infer_url(server, PROBE),
        data=head_bytes + tail,
        headers={"Inference-Header-Content-Length": str(length)},
        timeout=TIMEOUT,
    )


BINARY_HEAD = {
    "inputs": [{"name": "x", "datatype": "FP32", "shape": [4], "parameters": {"binary_data_size": 16}}]
}


def test_truncated_binary_tail_is_400(probe):
    assert_error(binary_post(probe, BINARY_HEAD, b"\x00" * 8), 400)
    assert infer(probe, PROBE, {"inputs": [FP32_22]}).status_code == 200


def test_binary_tail_with_extra_bytes_is_400(probe):
    assert_error(binary_post(probe, BINARY_HEAD, b"\x00" * 20), 400)


def test_binary_size_not_matching_the_shape_is_400(probe):
    head = {
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [4], "parameters": {"binary_data_size": 8}}]
    }
    assert_error(binary_post(probe, head, b"\x00" * 8), 400)


def test_header_length_beyond_the_body_is_400(probe):
    assert_error(binary_post(probe, {"inputs": [FP32_22]}, b"", head_length=10_000), 400)


def test_user_exception_is_500_with_error(probe):
    message = assert_error(kind(probe, "fail"), 500)
    assert "boom from predict" in message
    assert infer(probe, PROBE, {"inputs": [FP32_22]}).status_code == 200


def test_unsupported_triton_endpoint_answers_json_error(probe):
    # Spec 1.1: Triton-only paths that tritonclient may call answer 404/400 with a JSON error.
    response = requests.get(f"{probe.url}/v2/models/{PROBE}/config", timeout=TIMEOUT)
    assert response.status_code in (400, 404)
    assert_error(response, response.status_code)


# -- v1 and V2 on the same server ------------------------------------------------------------


def test_v1_and_v2_give_the_same_numbers(affine):
    rows = [[0.5, -1.0, 2.0], [3.0, 4.25, -7.5]]
    v1 = requests.post(
        affine.url + "/api/v1.0/predictions", json={"data": {"ndarray": rows}}, timeout=TIMEOUT
    )
    assert v1.status_code == 200, v1.text
    v1_values = np.array(v1.json()["data"]["ndarray"])
    v2 = infer_ok(affine, "affine", {"inputs": [tensor("x", "FP64", [2, 3], rows)]})
    (output,) = v2["outputs"]
    v2_values = output_array(output)
    expected = np.array(rows) * 2 + 1
    np.testing.assert_array_equal(v1_values, expected)
    np.testing.assert_array_equal(v2_values, expected)
    assert output["datatype"] == "FP64" and output["shape"] == [2, 3]


def test_v1_tensor_and_v2_int64_give_the_same_numbers(affine):
    v1 = requests.post(
        affine.url + "/api/v1.0/predictions",
        json={"data": {"tensor": {"shape": [4], "values": [1, 2, 3, 4]}}},
        timeout=TIMEOUT,
    )
    assert v1.status_code == 200, v1.text
    v2 = infer_ok(affine, "affine", {"inputs": [tensor("x", "INT64", [4], [1, 2, 3, 4])]})
    assert v1.json()["data"]["tensor"]["values"] == [3, 5, 7, 9]
    assert v2["outputs"][0]["data"] == [3, 5, 7, 9]
    assert v2["outputs"][0]["datatype"] == "INT64"


# -- metadata ----------------------------------------------------------------------------------


def test_model_metadata_is_translated_per_spec(meta_server):
    response = requests.get(meta_server.url + "/v2/models/meta-model", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    metadata = response.json()
    errors = [error.message for error in v2_validator().iter_errors(metadata)]
    assert errors == []
    assert metadata["name"] == "meta-model"
    assert metadata["versions"] == ["v1", "v2"]
    assert metadata["platform"] == "custom-platform"
    assert "custom" not in metadata
    assert metadata["properties"] == {"author": "tests", "tier": "gold"}
    # V2 tensors are kept; the v1 ndarray entry with a shape may become FP64 [2] or be omitted;
    # jsonData / strData entries never appear.
    assert metadata["inputs"][0] == {"name": "features", "datatype": "FP32", "shape": [-1, 3]}
    assert all(set(item) == {"name", "datatype", "shape"} for item in metadata["inputs"])
    assert [(item["datatype"], item["shape"]) for item in metadata["inputs"][1:]] in ([], [("FP64", [2])])
    assert metadata["outputs"] == [{"name": "scores", "datatype": "FP64", "shape": [-1, 1]}]


def test_model_metadata_versioned_path(meta_server):
    response = requests.get(meta_server.url + "/v2/models/meta-model/versions/v2", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["name"] == "meta-model"
    assert_error(requests.get(meta_server.url + "/v2/models/meta-model/versions/v3", timeout=TIMEOUT), 404)


def test_declared_output_name_is_used(meta_server):
    response = infer_ok(
        meta_server, "meta-model", {"inputs": [tensor("features", "FP32", [1, 3], [1, 2, 3])]}
    )
    (output,) = response["outputs"]
    assert output["name"] == "scores"


def test_v1_metadata_is_unchanged(meta_server):
    response = requests.get(meta_server.url + "/metadata", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["custom"] == {"author": "tests", "tier": "gold"}


# -- transformers ------------------------------------------------------------------------------


def test_input_transformer_answers_v2_infer_with_auto_method(transformer):
    response = infer_ok(transformer, "tx", {"inputs": [tensor("x", "INT64", [3], [1, 2, 3])]})
    (output,) = response["outputs"]
    assert output["data"] == [101, 102, 103]
    assert output["datatype"] == "INT64"


def test_v2_method_transform_input_on_a_class_with_predict(transform_flag):
    name = "V2PredictAndTransform"
    response = infer_ok(transform_flag, name, {"inputs": [tensor("x", "FP64", [2], [5.0, 7.5])]})
    assert response["outputs"][0]["data"] == [4.0, 6.5]
    v1 = requests.post(
        transform_flag.url + "/api/v1.0/predictions", json={"data": {"ndarray": [5.0, 7.5]}}, timeout=TIMEOUT
    )
    assert v1.json()["data"]["ndarray"] == [10.0, 15.0]
