"""The real ``tritonclient`` (http and grpc) against the V2 face of a v1 user class.

IdentityModel echoes its input; V2Double doubles numbers, negates booleans and repeats each
string/bytes element twice, so a passing answer cannot be a coincidental echo.
"""

from __future__ import annotations

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from tests.conftest import module_server
from tests.e2e.v2_helpers import import_tritonclient_grpc, wait_grpc_serving

grpcclient = import_tritonclient_grpc()

identity = module_server("IdentityModel")
double = module_server("V2Double")

IDENTITY = "IdentityModel"
DOUBLE = "V2Double"

CASES = {
    "FP32": np.array([[1.5, -2.25, 3.0], [0.125, 1e6, -0.0]], dtype=np.float32),
    "INT64": np.array([[1, -2], [2**40, -(2**62)]], dtype=np.int64),
    "BOOL": np.array([True, False, True], dtype=np.bool_),
    "BYTES": np.array([b"hello", b"w\xc3\xb6rld", b""], dtype=np.object_),
}


def doubled(datatype: str, array: np.ndarray) -> np.ndarray:
    if datatype == "BOOL":
        return ~array
    if datatype == "BYTES":
        return np.array([item * 2 for item in array.ravel()], dtype=np.object_).reshape(array.shape)
    return array * 2


def as_bytes(array: np.ndarray) -> np.ndarray:
    """BYTES results come back as bytes (binary) or str (JSON); compare them as bytes."""
    return np.array(
        [item.encode("utf-8") if isinstance(item, str) else item for item in array.ravel()], dtype=np.object_
    ).reshape(array.shape)


def assert_result(result: np.ndarray, expected: np.ndarray, datatype: str) -> None:
    assert result.shape == expected.shape
    if datatype == "BYTES":
        assert as_bytes(result).tolist() == expected.tolist()
    else:
        assert result.dtype == expected.dtype
        np.testing.assert_array_equal(result, expected)


@pytest.fixture(scope="module")
def http_identity(identity):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{identity.http_port}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def http_double(double):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{double.http_port}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def grpc_identity(identity):
    wait_grpc_serving(identity.grpc_port)
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{identity.grpc_port}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def grpc_double(double):
    wait_grpc_serving(double.grpc_port)
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{double.grpc_port}")
    yield client
    client.close()


# -- HTTP: health, metadata, repository ------------------------------------------------------


def test_http_live_and_ready(http_identity):
    assert http_identity.is_server_live() is True
    assert http_identity.is_server_ready() is True


def test_http_model_ready_true_for_the_model_false_for_unknown(http_identity):
    assert http_identity.is_model_ready(IDENTITY) is True
    assert http_identity.is_model_ready("nope") is False


def test_http_server_metadata_advertises_binary_tensor_data(http_identity):
    metadata = http_identity.get_server_metadata()
    assert isinstance(metadata["name"], str) and metadata["name"]
    assert isinstance(metadata["version"], str) and metadata["version"]
    assert "binary_tensor_data" in metadata["extensions"]


def test_http_model_metadata(http_identity):
    metadata = http_identity.get_model_metadata(IDENTITY)
    assert metadata["name"] == IDENTITY
    assert metadata["platform"] == ""
    assert metadata["inputs"] == [] and metadata["outputs"] == []


def test_http_model_metadata_of_unknown_model_raises_with_the_server_message(http_identity):
    with pytest.raises(InferenceServerException) as info:
        http_identity.get_model_metadata("nope")
    assert "Model nope not found" in info.value.message()


def test_http_repository_index_with_the_clients_empty_body(http_identity):
    index = http_identity.get_model_repository_index()
    assert [(entry["name"], entry["state"]) for entry in index] == [(IDENTITY, "READY")]


def test_http_unsupported_triton_endpoint_answers_a_readable_error(http_identity):
    # Spec 1.1: Triton-only endpoints (config, stats, ...) answer 404/400 with a JSON ``error``;
    # otherwise tritonclient reports a decoding problem instead of the server's message.
    with pytest.raises(InferenceServerException) as info:
        http_identity.get_model_config(IDENTITY)
    assert "decoding the response" not in info.value.message(), info.value.message()


# -- HTTP: inference -------------------------------------------------------------------------


def http_input(datatype: str, array: np.ndarray, binary: bool | None) -> httpclient.InferInput:
    item = httpclient.InferInput("x", list(array.shape), datatype)
    if binary is None:
        item.set_data_from_numpy(array)  # tritonclient's default: binary_data=True
    else:
        item.set_data_from_numpy(array, binary_data=binary)
    return item


@pytest.mark.parametrize("datatype", list(CASES))
def test_http_infer_with_default_arguments_is_binary_both_ways(http_identity, datatype):
    array = CASES[datatype]
    result = http_identity.infer(IDENTITY, [http_input(datatype, array, None)])
    output = result.get_output("output-0")
    assert output["datatype"] == datatype
    assert "binary_data_size" in output.get("parameters", {}), output  # binary_data_output honoured
    assert_result(result.as_numpy("output-0"), array, datatype)


@pytest.mark.parametrize("datatype", list(CASES))
def test_http_infer_with_json_input(http_identity, datatype):
    array = CASES[datatype]
    result = http_identity.infer(IDENTITY, [http_input(datatype, array, False)])
    assert_result(result.as_numpy("output-0"), array, datatype)


@pytest.mark.parametrize("binary_out", [True, False])
@pytest.mark.parametrize("binary_in", [True, False])
@pytest.mark.parametrize("datatype", list(CASES))
def test_http_infer_with_requested_output(http_double, datatype, binary_in, binary_out):
    array = CASES[datatype]
    outputs = [httpclient.InferRequestedOutput("doubled", binary_data=binary_out)]
    result = http_double.infer(DOUBLE, [http_input(datatype, array, binary_in)], outputs=outputs)
    response = result.get_response()
    assert [output["name"] for output in response["outputs"]] == ["doubled"]
    output = result.get_output("doubled")
    assert output["datatype"] == datatype
    assert ("binary_data_size" in output.get("parameters", {})) is binary_out, output
    assert ("data" in output) is not binary_out, output
    assert_result(result.as_numpy("doubled"), doubled(datatype, array), datatype)


@pytest.mark.parametrize("datatype", list(CASES))
def test_http_infer_doubles_with_default_arguments(http_double, datatype):
    array = CASES[datatype]
    result = http_double.infer(DOUBLE, [http_input(datatype, array, None)])
    assert_result(result.as_numpy("output-0"), doubled(datatype, array), datatype)


def test_http_infer_echoes_request_id_and_version(http_double):
    array = CASES["FP32"]
    result = http_double.infer(
        DOUBLE, [http_input("FP32", array, None)], model_version="3", request_id="req-17"
    )
    response = result.get_response()
    assert response["id"] == "req-17"
    assert response["model_name"] == DOUBLE
    assert response["model_version"] == "3"
    assert_result(result.as_numpy("output-0"), array * 2, "FP32")


def test_http_infer_with_a_single_string_element(http_double):
    array = np.array([b"ab"], dtype=np.object_)
    result = http_double.infer(DOUBLE, [http_input("BYTES", array, None)])
    assert as_bytes(result.as_numpy("output-0")).tolist() == [b"abab"]


def test_http_infer_of_unknown_model_raises_not_found(http_identity):
    with pytest.raises(InferenceServerException) as info:
        http_identity.infer("nope", [http_input("FP32", CASES["FP32"], None)])
    assert "Model nope not found" in info.value.message()
    assert http_identity.is_server_live()


def test_http_gzip_request_compression(http_double):
    array = CASES["INT64"]
    result = http_double.infer(
        DOUBLE, [http_input("INT64", array, None)], request_compression_algorithm="gzip"
    )
    assert_result(result.as_numpy("output-0"), array * 2, "INT64")


# -- gRPC --------------------------------------------------------------------------------------


def test_grpc_live_ready_and_model_ready(grpc_identity):
    assert grpc_identity.is_server_live() is True
    assert grpc_identity.is_server_ready() is True
    assert grpc_identity.is_model_ready(IDENTITY) is True
    assert grpc_identity.is_model_ready("nope") is False


def test_grpc_server_metadata(grpc_identity):
    metadata = grpc_identity.get_server_metadata(as_json=True)
    assert metadata["name"] and metadata["version"]
    assert "binary_tensor_data" in metadata["extensions"]


def test_grpc_model_metadata(grpc_identity):
    metadata = grpc_identity.get_model_metadata(IDENTITY, as_json=True)
    assert metadata["name"] == IDENTITY
    assert metadata.get("inputs", []) == [] and metadata.get("outputs", []) == []


def test_grpc_model_metadata_of_unknown_model_raises_not_found(grpc_identity):
    with pytest.raises(InferenceServerException) as info:
        grpc_identity.get_model_metadata("nope")
    assert info.value.status() == "StatusCode.NOT_FOUND"
    assert "Model nope not found" in info.value.message()


def grpc_input(datatype: str, array: np.ndarray) -> grpcclient.InferInput:
    item = grpcclient.InferInput("x", list(array.shape), datatype)
    item.set_data_from_numpy(array)
    return item


@pytest.mark.parametrize("datatype", list(CASES))
def test_grpc_infer_identity(grpc_identity, datatype):
    array = CASES[datatype]
    result = grpc_identity.infer(IDENTITY, [grpc_input(datatype, array)])
    assert_result(result.as_numpy("output-0"), array, datatype)


@pytest.mark.parametrize("datatype", list(CASES))
def test_grpc_infer_doubles(grpc_double, datatype):
    array = CASES[datatype]
    result = grpc_double.infer(DOUBLE, [grpc_input(datatype, array)])
    assert result.get_output("output-0").datatype == datatype
    assert_result(result.as_numpy("output-0"), doubled(datatype, array), datatype)


@pytest.mark.parametrize("datatype", list(CASES))
def test_grpc_infer_with_requested_output_id_and_version(grpc_double, datatype):
    array = CASES[datatype]
    result = grpc_double.infer(
        DOUBLE,
        [grpc_input(datatype, array)],
        outputs=[grpcclient.InferRequestedOutput("doubled")],
        request_id="g-1",
        model_version="2",
    )
    response = result.get_response()
    assert response.id == "g-1"
    assert response.model_version == "2"
    assert [output.name for output in response.outputs] == ["doubled"]
    assert_result(result.as_numpy("doubled"), doubled(datatype, array), datatype)


def test_grpc_infer_user_parameters_come_back(grpc_double):
    array = CASES["FP32"]
    result = grpc_double.infer(DOUBLE, [grpc_input("FP32", array)], parameters={"tenant": "blue"})
    response = result.get_response(as_json=True)
    assert response["parameters"]["tenant"] == {"string_param": "blue"}


def test_grpc_infer_of_unknown_model_raises_not_found(grpc_identity):
    with pytest.raises(InferenceServerException) as info:
        grpc_identity.infer("nope", [grpc_input("FP32", CASES["FP32"])])
    assert info.value.status() == "StatusCode.NOT_FOUND"
    assert "Model nope not found" in info.value.message()
    assert grpc_identity.is_server_live()
