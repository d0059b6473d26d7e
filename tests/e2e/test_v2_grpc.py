"""V2 gRPC (``inference.GRPCInferenceService``) with hand-built messages: typed vs raw contents,
the 6.2 mapping, status codes, metadata and readiness."""

from __future__ import annotations

import json
import time

import grpc
import numpy as np
import pytest
import requests

from seldon_wrapper.proto import grpc_predict_v2_pb2 as pb
from seldon_wrapper.proto import grpc_predict_v2_pb2_grpc as pb_grpc
from tests.conftest import module_server
from tests.e2e.v2_helpers import (
    TIMEOUT,
    TYPED_FIELD,
    from_raw,
    grpc_error,
    launch,
    raw_request,
    typed_output,
    typed_request,
    v2_stub_fixture,
    wait_grpc_serving,
)
from tests.models.V2SlowLoad import LOAD_SECONDS

probe = module_server("V2Probe", env={"MODEL_METADATA": '{"versions": ["1", "2"]}'})
meta_server = module_server("V2Meta")
triton_user = module_server("V2TritonUser")
stub = v2_stub_fixture("probe")
meta_stub = v2_stub_fixture("meta_server")

PROBE = "V2Probe"

ARRAYS = {
    "BOOL": np.array([[True, False], [False, True]]),
    "UINT8": np.array([0, 7, 255], dtype=np.uint8),
    "UINT32": np.array([0, 2**32 - 1], dtype=np.uint32),
    "UINT64": np.array([2**64 - 1, 1], dtype=np.uint64),
    "INT8": np.array([-128, 0, 127], dtype=np.int8),
    "INT16": np.array([[-300], [300]], dtype=np.int16),
    "INT32": np.array([-(2**31), 2**31 - 1], dtype=np.int32),
    "INT64": np.array([[1, -2, 3], [2**62, -(2**62), 0]], dtype=np.int64),
    "FP32": np.array([1.5, -0.25, 3e38], dtype=np.float32),
    "FP64": np.array([[0.1, -1e300]], dtype=np.float64),
    "BYTES": np.array([b"ab", b"\x00\xffc", b""], dtype=object),
}


def good(stub) -> None:
    """A valid request still succeeds: the server keeps serving after an error."""
    response = stub.ModelInfer(typed_request(PROBE, {"x": ("INT64", np.array([4, 5]))}), timeout=TIMEOUT)
    assert typed_output(response.outputs[0]).tolist() == [4, 5]


def describe(stub, request) -> dict:
    request.parameters["kind"].string_param = "describe"
    response = stub.ModelInfer(request, timeout=TIMEOUT)
    (output,) = response.outputs
    assert output.datatype == "BYTES"
    if response.raw_output_contents:
        (item,) = from_raw(response.raw_output_contents[0], "BYTES", list(output.shape)).ravel()
    else:
        (item,) = output.contents.bytes_contents
    return json.loads(item)


# -- health and server metadata -----------------------------------------------------------------


def test_server_live_ready_and_metadata(stub):
    assert stub.ServerLive(pb.ServerLiveRequest(), timeout=TIMEOUT).live is True
    assert stub.ServerReady(pb.ServerReadyRequest(), timeout=TIMEOUT).ready is True
    metadata = stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=TIMEOUT)
    assert metadata.name and metadata.version
    assert "binary_tensor_data" in metadata.extensions


def test_model_ready(stub):
    ready = stub.ModelReady
    assert ready(pb.ModelReadyRequest(name=PROBE), timeout=TIMEOUT).ready is True
    assert ready(pb.ModelReadyRequest(name=PROBE, version="2"), timeout=TIMEOUT).ready is True
    assert ready(pb.ModelReadyRequest(name=PROBE, version="9"), timeout=TIMEOUT).ready is False
    assert ready(pb.ModelReadyRequest(name="nope"), timeout=TIMEOUT).ready is False


def test_repository_index(stub):
    response = stub.RepositoryIndex(pb.RepositoryIndexRequest(), timeout=TIMEOUT)
    assert [(model.name, model.state) for model in response.models] == [(PROBE, "READY")]


# -- typed vs raw contents -------------------------------------------------------------------


@pytest.mark.parametrize("datatype", list(ARRAYS))
def test_typed_contents_in_typed_contents_out(stub, datatype):
    array = ARRAYS[datatype]
    response = stub.ModelInfer(typed_request(PROBE, {"x": (datatype, array)}), timeout=TIMEOUT)
    assert list(response.raw_output_contents) == []
    (output,) = response.outputs
    assert output.datatype == datatype
    assert list(output.shape) == list(array.shape)
    result = typed_output(output)
    assert result.tolist() == array.tolist()


@pytest.mark.parametrize("datatype", [*ARRAYS, "FP16"])
def test_raw_contents_in_raw_contents_out(stub, datatype):
    array = ARRAYS.get(datatype, np.array([[0.5, -2.0], [65504.0, 0.0]], dtype=np.float16))
    response = stub.ModelInfer(raw_request(PROBE, {"x": (datatype, array)}), timeout=TIMEOUT)
    (output,) = response.outputs
    assert output.datatype == datatype
    assert list(output.shape) == list(array.shape)
    assert len(response.raw_output_contents) == 1
    if datatype in TYPED_FIELD:
        assert len(getattr(output.contents, TYPED_FIELD[datatype])) == 0
    result = from_raw(response.raw_output_contents[0], datatype, list(output.shape))
    assert result.tolist() == array.tolist()


def test_typed_bytes_single_element_reaches_user_as_bytes(stub):
    request = typed_request(PROBE, {"b": ("BYTES", np.array([b"\x01\x02"], dtype=object))})
    assert describe(stub, request)["x"] == {"type": "bytes", "value": {"b64": "AQI="}}


def test_typed_bytes_with_str_content_type_reaches_user_as_str(stub):
    request = typed_request(PROBE, {"b": ("BYTES", np.array([b"caf\xc3\xa9", b"x"], dtype=object))})
    request.inputs[0].parameters["content_type"].string_param = "str"
    assert describe(stub, request)["x"] == {
        "type": "ndarray",
        "dtype": "object",
        "shape": [2],
        "value": ["café", "x"],
    }


def test_str_result_over_grpc_is_bytes_contents(stub):
    request = typed_request(PROBE, {"x": ("INT64", np.array([1]))})
    request.parameters["kind"].string_param = "str"
    response = stub.ModelInfer(request, timeout=TIMEOUT)
    (output,) = response.outputs
    assert output.datatype == "BYTES" and list(output.shape) == [1]
    assert list(output.contents.bytes_contents) == [b"hello from predict"]


def test_non_utf8_bytes_result_over_grpc_is_unchanged(stub):
    request = typed_request(PROBE, {"x": ("INT64", np.array([1]))})
    request.parameters["kind"].string_param = "bytes"
    (output,) = stub.ModelInfer(request, timeout=TIMEOUT).outputs
    assert list(output.contents.bytes_contents) == [b"\x00\xff\x10bin"]


# -- the mapping, ids, parameters, outputs ---------------------------------------------------


def test_id_is_echoed_and_parameters_become_tags(stub):
    request = typed_request(PROBE, {"x": ("FP64", np.array([1.0, 2.0]))}, id="g-7")
    request.parameters["user"].string_param = "bob"
    request.parameters["n"].int64_param = 5
    request.parameters["flag"].bool_param = True
    request.parameters["ratio"].double_param = 0.5
    doc = describe(stub, request)
    assert doc["puid"] == "g-7"
    assert doc["tags"] == {"kind": "describe", "user": "bob", "n": 5, "flag": True, "ratio": 0.5}
    response = stub.ModelInfer(request, timeout=TIMEOUT)
    assert response.id == "g-7"
    assert response.model_name == PROBE
    assert response.parameters["user"].string_param == "bob"
    assert response.parameters["n"].int64_param == 5


def test_columnar_inputs_are_stacked_with_names(stub):
    request = raw_request(PROBE, {"a": ("INT64", np.array([1, 2])), "b": ("INT64", np.array([[3], [4]]))})
    doc = describe(stub, request)
    assert doc["names"] == ["a", "b"]
    assert doc["x"] == {"type": "ndarray", "dtype": "int64", "shape": [2, 2], "value": [[1, 3], [2, 4]]}


def test_unrelated_inputs_are_a_dict(stub):
    request = typed_request(
        PROBE, {"m": ("FP32", np.ones((2, 2), dtype=np.float32)), "k": ("INT32", np.array([1, 2, 3]))}
    )
    doc = describe(stub, request)
    assert doc["names"] == ["m", "k"]
    assert doc["x"]["type"] == "dict"
    assert doc["x"]["value"]["k"] == {"type": "ndarray", "dtype": "int32", "shape": [3], "value": [1, 2, 3]}


def test_requested_output_name_is_used(stub):
    request = typed_request(PROBE, {"x": ("FP32", np.array([2.5], dtype=np.float32))})
    request.outputs.add(name="prediction")
    (output,) = stub.ModelInfer(request, timeout=TIMEOUT).outputs
    assert output.name == "prediction"
    assert list(output.contents.fp32_contents) == [2.5]


def test_versioned_infer(stub):
    request = typed_request(PROBE, {"x": ("INT64", np.array([1]))}, model_version="2")
    assert stub.ModelInfer(request, timeout=TIMEOUT).model_version == "2"


# -- errors ----------------------------------------------------------------------------------


def _unknown_datatype():
    request = pb.ModelInferRequest(model_name=PROBE)
    request.inputs.add(name="x", datatype="INT322", shape=[1]).contents.int_contents.append(1)
    return request


def _shape_mismatch():
    request = pb.ModelInferRequest(model_name=PROBE)
    request.inputs.add(name="x", datatype="FP32", shape=[2, 2]).contents.fp32_contents.extend([1, 2, 3])
    return request


def _raw_size_mismatch():
    request = pb.ModelInferRequest(model_name=PROBE)
    request.inputs.add(name="x", datatype="FP32", shape=[4])
    request.raw_input_contents.append(b"\x00" * 8)
    return request


def _truncated_bytes():
    request = pb.ModelInferRequest(model_name=PROBE)
    request.inputs.add(name="s", datatype="BYTES", shape=[1])
    request.raw_input_contents.append(b"\x09\x00\x00\x00abc")
    return request


def _extra_raw():
    request = raw_request(PROBE, {"x": ("INT64", np.array([1]))})
    request.raw_input_contents.append(b"\x00" * 8)
    return request


def _fp16_typed():
    request = pb.ModelInferRequest(model_name=PROBE)
    request.inputs.add(name="x", datatype="FP16", shape=[1]).contents.fp32_contents.append(1.0)
    return request


def _int8_out_of_range():
    request = pb.ModelInferRequest(model_name=PROBE)
    request.inputs.add(name="x", datatype="INT8", shape=[1]).contents.int_contents.append(300)
    return request


def _int16_beyond_range():
    request = pb.ModelInferRequest(model_name=PROBE)
    request.inputs.add(name="x", datatype="INT16", shape=[2]).contents.int_contents.extend([1, 40000])
    return request


def _uint8_beyond_range():
    request = pb.ModelInferRequest(model_name=PROBE)
    request.inputs.add(name="x", datatype="UINT8", shape=[1]).contents.uint_contents.append(256)
    return request


def _not_base64():
    request = typed_request(PROBE, {"b": ("BYTES", np.array([b"not base64!!"], dtype=object))})
    request.inputs[0].parameters["content_type"].string_param = "base64"
    return request


def _unknown_output():
    request = typed_request(PROBE, {"x": ("INT64", np.array([1]))})
    request.outputs.add(name="a")
    request.outputs.add(name="b")
    return request


INVALID = {
    "unknown datatype": _unknown_datatype,
    "shape/data mismatch": _shape_mismatch,
    "raw size mismatch": _raw_size_mismatch,
    "truncated BYTES element": _truncated_bytes,
    "raw entry for no input": _extra_raw,
    "no inputs": lambda: pb.ModelInferRequest(model_name=PROBE),
    "FP16 without raw contents": _fp16_typed,
    "INT8 value out of range": _int8_out_of_range,
    "INT16 value out of range": _int16_beyond_range,
    "UINT8 value out of range": _uint8_beyond_range,
    "not base64": _not_base64,
    "unknown requested output": _unknown_output,
}


@pytest.mark.parametrize("build", list(INVALID.values()), ids=list(INVALID))
def test_bad_request_is_invalid_argument(stub, build):
    error = grpc_error(stub.ModelInfer, build())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
    assert error.details()
    good(stub)


def test_unknown_model_is_not_found(stub):
    error = grpc_error(stub.ModelInfer, typed_request("nope", {"x": ("INT64", np.array([1]))}))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "Model nope not found"
    error = grpc_error(stub.ModelMetadata, pb.ModelMetadataRequest(name="nope"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    good(stub)


def test_unknown_version_is_not_found(stub):
    request = typed_request(PROBE, {"x": ("INT64", np.array([1]))}, model_version="9")
    error = grpc_error(stub.ModelInfer, request)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == f"Model {PROBE} with version 9 not found"
    good(stub)


def test_user_exception_is_internal(stub):
    request = typed_request(PROBE, {"x": ("INT64", np.array([1]))})
    request.parameters["kind"].string_param = "fail"
    error = grpc_error(stub.ModelInfer, request)
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "boom from predict" in error.details()
    good(stub)


# -- metadata ----------------------------------------------------------------------------------


def test_model_metadata_matches_rest(meta_server, meta_stub):
    rest = requests.get(meta_server.url + "/v2/models/meta-model", timeout=TIMEOUT).json()
    response = meta_stub.ModelMetadata(pb.ModelMetadataRequest(name="meta-model"), timeout=TIMEOUT)
    assert response.name == rest["name"] == "meta-model"
    assert list(response.versions) == rest["versions"] == ["v1", "v2"]
    assert response.platform == rest["platform"] == "custom-platform"

    def tensors(items):
        return [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in items]

    assert tensors(response.inputs) == rest["inputs"]
    assert tensors(response.outputs) == rest["outputs"]
    assert tensors(response.inputs)[0] == {"name": "features", "datatype": "FP32", "shape": [-1, 3]}


def test_model_metadata_versioned(meta_stub):
    response = meta_stub.ModelMetadata(
        pb.ModelMetadataRequest(name="meta-model", version="v1"), timeout=TIMEOUT
    )
    assert response.name == "meta-model"
    error = grpc_error(meta_stub.ModelMetadata, pb.ModelMetadataRequest(name="meta-model", version="v3"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


# -- readiness while load() runs -------------------------------------------------------------


def test_server_ready_only_after_load(tmp_path):
    started = time.monotonic()
    server = launch("V2SlowLoad", tmp_path=tmp_path)
    try:
        grpc_answers: list[tuple[float, bool]] = []
        rest_answers: list[tuple[float, int]] = []
        deadline = started + 20
        with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            v2 = pb_grpc.GRPCInferenceServiceStub(channel)
            while time.monotonic() < deadline:
                assert server.process.poll() is None, server.log()
                try:
                    ready = v2.ServerReady(pb.ServerReadyRequest(), timeout=0.3).ready
                    grpc_answers.append((time.monotonic() - started, ready))
                except grpc.RpcError:
                    pass
                try:
                    status = requests.get(server.url + "/v2/health/ready", timeout=0.3).status_code
                    rest_answers.append((time.monotonic() - started, status))
                except requests.RequestException:
                    pass
                if grpc_answers and grpc_answers[-1][1] and rest_answers and rest_answers[-1][1] == 200:
                    break
                time.sleep(0.05)
            assert grpc_answers and grpc_answers[-1][1] is True, (grpc_answers, server.log())
            assert rest_answers and rest_answers[-1][1] == 200, (rest_answers, server.log())
            early = [answer for answer in grpc_answers if answer[1] and answer[0] < LOAD_SECONDS]
            assert early == [], grpc_answers
            early_rest = [answer for answer in rest_answers if answer[1] == 200 and answer[0] < LOAD_SECONDS]
            assert early_rest == [], rest_answers
            assert v2.ModelReady(pb.ModelReadyRequest(name="V2SlowLoad"), timeout=TIMEOUT).ready is True
            response = v2.ModelInfer(
                typed_request("V2SlowLoad", {"x": ("INT64", np.array([3]))}), timeout=TIMEOUT
            )
            assert typed_output(response.outputs[0]).tolist() == [3]
    finally:
        server.stop()


# -- a user class that imports tritonclient ----------------------------------------------------


def test_v2_grpc_serves_a_model_that_imports_tritonclient(triton_user):
    # A transformer that calls Triton imports tritonclient.grpc, whose protos define the same
    # ``inference.*`` messages; the wrapper's gRPC server must still come up and answer V2.
    wait_grpc_serving(triton_user.grpc_port, timeout=5)
    with grpc.insecure_channel(f"127.0.0.1:{triton_user.grpc_port}") as channel:
        v2 = pb_grpc.GRPCInferenceServiceStub(channel)
        response = v2.ModelInfer(
            typed_request("V2TritonUser", {"x": ("INT64", np.array([8]))}), timeout=TIMEOUT
        )
    assert typed_output(response.outputs[0]).tolist() == [8]
