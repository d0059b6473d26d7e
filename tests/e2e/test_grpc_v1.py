"""gRPC ``seldon.protos`` against real servers: the worked examples of spec 4.6, payload
decoding/encoding (3.3, 3.5) and model metadata (4.2, 7.3).

Client mistakes answer INVALID_ARGUMENT with details naming the problem (the original answered
UNKNOWN with blank details); GraphMetadata answers UNIMPLEMENTED (our deviations).
"""

import grpc
import numpy as np
import pytest
from google.protobuf import any_pb2, empty_pb2

from seldon_wrapper.proto import prediction_pb2
from seldon_wrapper.proto.tensorflow.core.framework import types_pb2
from tests.conftest import module_server
from tests.e2e.grpc_helpers import (
    call,
    call_error,
    feedback,
    message,
    module_channel,
    rpc,
    tftensor,
    tftensor_to_array,
    to_dict,
)

counter = module_server("CounterMetricsModel")
counter_channel = module_channel("counter")
echo = module_server("GrpcEchoModel")
echo_channel = module_channel("echo")
with_image = module_server(
    "CounterMetricsModel",
    env={"PREDICTIVE_UNIT_ID": "mymodel", "PREDICTIVE_UNIT_IMAGE": "myrepo/myimage:0.3"},
)
with_image_channel = module_channel("with_image")
id_only = module_server("IdentityModel", env={"PREDICTIVE_UNIT_ID": "mymodel"})
id_only_channel = module_channel("id_only")
metadata_model = module_server("E2eHealthList")
metadata_channel = module_channel("metadata_model")
bad_metadata = module_server("E2eHealthError", env={"MODEL_METADATA": '{"extra_key": 1}'})
bad_metadata_channel = module_channel("bad_metadata")

REQS = {"key": "reqs", "value": 1.0}  # COUNTER: ``type`` omitted as the proto3 default


def predict(channel, request: dict, service: str = "Model") -> dict:
    return call(rpc(channel, service, "Predict"), message(request))


# -- spec 4.6 worked examples (identity predict, metrics() = COUNTER reqs 1) -----------------


@pytest.mark.parametrize(
    "request_json, expected",
    [
        (
            {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}},
            {
                "meta": {"metrics": [REQS]},
                "data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [1.0, 2.0]}},
            },
        ),
        (
            {"data": {"ndarray": [[1, 2]]}},
            {"meta": {"metrics": [REQS]}, "data": {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]}},
        ),
        (
            {"data": {"ndarray": [["a", 1]]}},
            {"meta": {"metrics": [REQS]}, "data": {"names": ["t:0", "t:1"], "ndarray": [["a", "1.0"]]}},
        ),
        ({"jsonData": {"x": 1}}, {"meta": {"metrics": [REQS]}, "jsonData": {"x": 1.0}}),
        (
            {"meta": {"puid": "p", "tags": {"a": 1}}, "data": {"ndarray": [1]}},
            {"meta": {"puid": "p", "tags": {"a": 1.0}, "metrics": [REQS]}, "data": {"ndarray": [1.0]}},
        ),
    ],
    ids=["tensor", "ndarray", "ndarray-mixed", "jsonData", "puid-tags-1d"],
)
def test_worked_example_predict(counter_channel, request_json, expected):
    assert predict(counter_channel, request_json) == expected


def test_worked_example_empty_message_is_invalid_argument(counter_channel):
    error = call_error(rpc(counter_channel, "Model", "Predict"), prediction_pb2.SeldonMessage())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().strip()
    assert "data" in error.details().lower()
    assert predict(counter_channel, {"strData": "still up"})["strData"] == "still up"


def test_worked_example_route_not_defined(counter_channel):
    error = call_error(rpc(counter_channel, "Router", "Route"), message({"data": {"ndarray": [[1]]}}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Route not defined" in error.details()
    assert predict(counter_channel, {"strData": "still up"})["strData"] == "still up"


def test_worked_example_send_feedback(counter_channel):
    request = feedback({"request": {"data": {"ndarray": [[1, 2]]}}, "reward": 1})
    response = call(rpc(counter_channel, "Model", "SendFeedback"), request)
    assert response == {"meta": {"metrics": [REQS]}, "data": {"ndarray": []}}


def test_worked_example_metadata_default(counter_channel):
    assert call(rpc(counter_channel, "Model", "Metadata"), empty_pb2.Empty()) == {"versions": [""]}


def test_worked_example_graph_metadata_unimplemented(counter_channel):
    error = call_error(rpc(counter_channel, "Seldon", "GraphMetadata"), empty_pb2.Empty())
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert error.details() == "GraphMetadata not available on the Model level."
    assert predict(counter_channel, {"strData": "still up"})["strData"] == "still up"


def test_worked_example_request_path_from_env(with_image_channel):
    response = predict(with_image_channel, {"data": {"ndarray": [[1, 2]]}})
    assert response == {
        "meta": {"requestPath": {"mymodel": "myrepo/myimage:0.3"}, "metrics": [REQS]},
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]},
    }


def test_request_path_merges_request_entries(with_image_channel):
    request = {"meta": {"requestPath": {"upstream": "up:1"}}, "strData": "s"}
    response = predict(with_image_channel, request, service="Seldon")
    assert response == {
        "meta": {"requestPath": {"mymodel": "myrepo/myimage:0.3", "upstream": "up:1"}, "metrics": [REQS]},
        "strData": "s",
    }


def test_request_path_on_feedback_and_metadata_from_image(with_image_channel):
    request = feedback({"request": {"data": {"ndarray": [[1, 2]]}}, "reward": 1})
    assert call(rpc(with_image_channel, "Model", "SendFeedback"), request) == {
        "meta": {"requestPath": {"mymodel": "myrepo/myimage:0.3"}, "metrics": [REQS]},
        "data": {"ndarray": []},
    }
    expected = {"name": "myrepo/myimage", "versions": ["0.3"]}
    assert call(rpc(with_image_channel, "Model", "Metadata"), empty_pb2.Empty()) == expected


def test_request_path_without_image(id_only_channel):
    response = predict(id_only_channel, {"data": {"ndarray": [1]}})
    assert response == {
        "meta": {"requestPath": {"mymodel": "NOT_IMPLEMENTED:NOT_IMPLEMENTED"}},
        "data": {"ndarray": [1.0]},
    }


# -- Model/Predict payloads (identity unless meta.tags.out says otherwise) --------------------


@pytest.mark.parametrize("service", ["Model", "Seldon"])
def test_ndarray_2d_ints_become_floats_with_class_names(echo_channel, service):
    request = {"data": {"names": ["f0", "f1"], "ndarray": [[1, 2], [3, 4]]}}
    assert predict(echo_channel, request, service) == {
        "meta": {},
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0], [3.0, 4.0]]},
    }


def test_ndarray_user_receives_float64_names_and_meta(echo_channel):
    request = {
        "meta": {
            "puid": "p1",
            "tags": {"out": "describe", "n": 1},
            "routing": {"r": 1},
            "requestPath": {"up": "img:1"},
            "metrics": [{"key": "m", "type": "GAUGE", "value": 2}, {"key": "c", "value": 1}],
        },
        "data": {"names": ["f0", "f1"], "ndarray": [[1, 2]]},
    }
    response = predict(echo_channel, request)
    request_meta = {
        "puid": "p1",
        "tags": {"out": "describe", "n": 1.0},
        "routing": {"r": 1},
        "requestPath": {"up": "img:1"},
        "metrics": [{"key": "m", "type": "GAUGE", "value": 2.0}, {"key": "c", "value": 1.0}],
    }
    assert response["jsonData"] == {
        "x_type": "ndarray",
        "dtype": "float64",
        "value": [[1.0, 2.0]],
        "repr": "",
        "names": ["f0", "f1"],
        "meta": request_meta,
        "tag_types": {"out": "str", "n": "float"},
    }
    # puid, tags, requestPath and metrics of the request are carried; routing is not.
    assert response["meta"] == {
        "puid": "p1",
        "tags": {"out": "describe", "n": 1.0},
        "requestPath": {"up": "img:1"},
        "metrics": [{"key": "m", "type": "GAUGE", "value": 2.0}, {"key": "c", "value": 1.0}],
    }


def test_ndarray_1d_has_no_names(echo_channel):
    assert predict(echo_channel, {"data": {"ndarray": [1, 2, 3]}}) == {
        "meta": {},
        "data": {"ndarray": [1.0, 2.0, 3.0]},
    }


def test_ndarray_strings_stay_ndarray(echo_channel):
    assert predict(echo_channel, {"data": {"ndarray": [["a", "b"]]}}) == {
        "meta": {},
        "data": {"names": ["t:0", "t:1"], "ndarray": [["a", "b"]]},
    }


def test_ndarray_mixed_strings_and_numbers_become_strings(echo_channel):
    response = predict(echo_channel, {"meta": {"tags": {"out": "describe"}}, "data": {"ndarray": [["a", 1]]}})
    assert response["jsonData"]["value"] == [["a", "1.0"]]
    assert response["jsonData"]["dtype"].startswith("<U")


def test_tensor_in_tensor_out(echo_channel):
    request = {"data": {"names": ["x", "y"], "tensor": {"shape": [2, 2], "values": [1, 2, 3, 4]}}}
    assert predict(echo_channel, request) == {
        "meta": {},
        "data": {"names": ["t:0", "t:1"], "tensor": {"shape": [2, 2], "values": [1.0, 2.0, 3.0, 4.0]}},
    }


def test_tensor_user_receives_float64_reshaped(echo_channel):
    request = {
        "meta": {"tags": {"out": "describe"}},
        "data": {"tensor": {"shape": [2, 2], "values": [1, 2, 3, 4]}},
    }
    described = predict(echo_channel, request)["jsonData"]
    assert (described["x_type"], described["dtype"]) == ("ndarray", "float64")
    assert described["value"] == [[1.0, 2.0], [3.0, 4.0]]
    assert described["names"] == []


def test_tensor_1d_has_no_names(echo_channel):
    assert predict(echo_channel, {"data": {"tensor": {"shape": [3], "values": [1, 2, 3]}}}) == {
        "meta": {},
        "data": {"tensor": {"shape": [3], "values": [1.0, 2.0, 3.0]}},
    }


def test_three_dimensional_output_names_from_second_dimension(echo_channel):
    request = {"meta": {"tags": {"out": "three-d"}}, "data": {"tensor": {"shape": [1, 1], "values": [0]}}}
    assert predict(echo_channel, request)["data"] == {
        "names": ["t:0"],
        "tensor": {"shape": [1, 1, 3], "values": [1.0, 2.0, 3.0]},
    }


def test_tftensor_in_tftensor_out(echo_channel):
    request = prediction_pb2.SeldonMessage()
    request.data.tftensor.CopyFrom(tftensor(np.array([[1.5, 2.5]]), types_pb2.DT_FLOAT))
    response = rpc(echo_channel, "Model", "Predict")(request, timeout=10)
    assert response.data.WhichOneof("data_oneof") == "tftensor"
    assert list(response.data.names) == ["t:0", "t:1"]
    assert response.data.tftensor.dtype == types_pb2.DT_FLOAT
    assert [dim.size for dim in response.data.tftensor.tensor_shape.dim] == [1, 2]
    np.testing.assert_array_equal(tftensor_to_array(response.data.tftensor), [[1.5, 2.5]])


def test_tftensor_keeps_its_dtype(echo_channel):
    request = message({"meta": {"tags": {"out": "describe"}}})
    request.data.tftensor.CopyFrom(tftensor(np.array([[1, 2]]), types_pb2.DT_INT32))
    described = call(rpc(echo_channel, "Model", "Predict"), request)["jsonData"]
    assert (described["x_type"], described["dtype"], described["value"]) == ("ndarray", "int32", [[1, 2]])

    plain = prediction_pb2.SeldonMessage()
    plain.data.tftensor.CopyFrom(tftensor(np.array([[7, 8]]), types_pb2.DT_INT32))
    response = rpc(echo_channel, "Model", "Predict")(plain, timeout=10)
    assert response.data.tftensor.dtype == types_pb2.DT_INT32
    np.testing.assert_array_equal(tftensor_to_array(response.data.tftensor), [[7, 8]])


def test_tftensor_request_with_string_result_answers_ndarray(echo_channel):
    request = message({"meta": {"tags": {"out": "strings"}}})
    request.data.tftensor.CopyFrom(tftensor(np.array([[1.0]]), types_pb2.DT_DOUBLE))
    assert call(rpc(echo_channel, "Model", "Predict"), request)["data"] == {
        "names": ["t:0", "t:1"],
        "ndarray": [["a", "b"]],
    }


def test_data_without_inner_payload_is_an_empty_array(echo_channel):
    assert predict(echo_channel, {"data": {"names": ["a"]}}) == {"meta": {}, "data": {"ndarray": []}}
    described = predict(echo_channel, {"meta": {"tags": {"out": "describe"}}, "data": {"names": ["a"]}})
    assert described["jsonData"]["value"] == []
    assert described["jsonData"]["dtype"] == "float64"


def test_str_data(echo_channel):
    assert predict(echo_channel, {"strData": "hello"}) == {"meta": {}, "strData": "hello"}
    described = predict(echo_channel, {"meta": {"tags": {"out": "describe"}}, "strData": "hello"})["jsonData"]
    assert (described["x_type"], described["value"], described["names"]) == ("str", "hello", [])


def test_bin_data(echo_channel):
    payload = b"\x00\xffab"
    response = rpc(echo_channel, "Model", "Predict")(
        prediction_pb2.SeldonMessage(binData=payload), timeout=10
    )
    assert response.WhichOneof("data_oneof") == "binData"
    assert response.binData == payload
    request = prediction_pb2.SeldonMessage(binData=payload)
    request.meta.tags["out"].string_value = "describe"
    described = call(rpc(echo_channel, "Model", "Predict"), request)["jsonData"]
    assert (described["x_type"], described["value"]) == ("bytes", payload.hex())


def test_json_data_numbers_are_floats(echo_channel):
    assert predict(echo_channel, {"jsonData": {"x": 1, "s": "t", "l": [1, 2]}}) == {
        "meta": {},
        "jsonData": {"x": 1.0, "s": "t", "l": [1.0, 2.0]},
    }
    described = predict(echo_channel, {"meta": {"tags": {"out": "describe"}}, "jsonData": {"x": 1}})
    assert (described["jsonData"]["x_type"], described["jsonData"]["repr"]) == ("dict", "{'x': 1.0}")


def test_json_data_list_returned_as_list_answers_tensor(echo_channel):
    # The user gets a list of floats back from jsonData; a numeric list result of a non-data
    # request is encoded as a tensor.
    assert predict(echo_channel, {"jsonData": [1, 2]}) == {
        "meta": {},
        "data": {"tensor": {"shape": [2], "values": [1.0, 2.0]}},
    }


def test_custom_data_any(echo_channel):
    packed = any_pb2.Any()
    packed.Pack(prediction_pb2.Tensor(shape=[1], values=[5]))
    response = rpc(echo_channel, "Model", "Predict")(
        prediction_pb2.SeldonMessage(customData=packed), timeout=10
    )
    assert response.WhichOneof("data_oneof") == "customData"
    assert response.customData == packed
    unpacked = prediction_pb2.Tensor()
    assert response.customData.Unpack(unpacked)
    assert list(unpacked.values) == [5.0]

    request = prediction_pb2.SeldonMessage(customData=packed)
    request.meta.tags["out"].string_value = "describe"
    described = call(rpc(echo_channel, "Model", "Predict"), request)["jsonData"]
    assert described["x_type"] == "Any"
    assert described["value"] == {"type_url": packed.type_url, "value_hex": packed.value.hex()}


@pytest.mark.parametrize(
    "out, expected",
    [
        ("ints", {"data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [1.0, 2.0]}}}),
        ("strings", {"data": {"names": ["t:0", "t:1"], "ndarray": [["a", "b"]]}}),
        ("dict", {"jsonData": {"k": "v"}}),
        ("bytes", {"binData": "AAE="}),
        ("str", {"strData": "text"}),
    ],
)
def test_result_types_for_a_str_data_request(echo_channel, out, expected):
    # Not a ``data`` request: a numeric array answers tensor, strings ndarray.
    response = predict(echo_channel, {"meta": {"tags": {"out": out}}, "strData": "x"})
    assert response == {"meta": {"tags": {"out": out}}, **expected}


@pytest.mark.parametrize(
    "out, expected",
    [
        ("ints", {"data": {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]}}),
        ("dict", {"jsonData": {"k": "v"}}),
        ("bytes", {"binData": "AAE="}),
        ("str", {"strData": "text"}),
    ],
)
def test_result_types_for_an_ndarray_request(echo_channel, out, expected):
    response = predict(echo_channel, {"meta": {"tags": {"out": out}}, "data": {"ndarray": [[0]]}})
    assert response == {"meta": {"tags": {"out": out}}, **expected}


# -- defaults: no transform/route methods -----------------------------------------------------


@pytest.mark.parametrize(
    "service, method",
    [
        ("Generic", "TransformInput"),
        ("Transformer", "TransformInput"),
        ("Generic", "TransformOutput"),
        ("OutputTransformer", "TransformOutput"),
    ],
)
def test_missing_transform_methods_are_identity(echo_channel, service, method):
    fn = rpc(echo_channel, service, method)
    assert call(fn, message({"meta": {"puid": "z"}, "data": {"ndarray": [[1, 2]]}})) == {
        "meta": {"puid": "z"},
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]},
    }
    assert call(fn, message({"strData": "abc"})) == {"meta": {}, "strData": "abc"}


# -- metadata ---------------------------------------------------------------------------------

FULL_METADATA = {
    "name": "my-model-name",
    "versions": ["model-version"],
    "platform": "model-platform",
    "inputs": [
        {"name": "input", "datatype": "BYTES", "shape": ["1"]},  # int64 -> JSON string
        {"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2.0]}},
    ],
    "outputs": [
        {"name": "output", "datatype": "BYTES", "shape": ["1"]},
        {"messagetype": "jsonData", "schema": {"type": "object"}},
        {"messagetype": "strData"},
        {"messagetype": "customData", "schema": {}},
    ],
    "custom": {"author": "e2e"},
}


def test_metadata_default_on_both_services(counter_channel):
    assert call(rpc(counter_channel, "Model", "Metadata"), empty_pb2.Empty()) == {"versions": [""]}
    request = prediction_pb2.SeldonModelMetadataRequest(name="anything")
    assert call(rpc(counter_channel, "Seldon", "ModelMetadata"), request) == {"versions": [""]}


def test_metadata_from_init_metadata(metadata_channel):
    response = rpc(metadata_channel, "Model", "Metadata")(empty_pb2.Empty(), timeout=10)
    assert to_dict(response) == FULL_METADATA
    assert list(response.inputs[0].shape) == [1]
    request = prediction_pb2.SeldonModelMetadataRequest(name="my-model-name")
    assert call(rpc(metadata_channel, "Seldon", "ModelMetadata"), request) == FULL_METADATA


def test_invalid_metadata_answers_an_empty_message(bad_metadata_channel):
    assert call(rpc(bad_metadata_channel, "Model", "Metadata"), empty_pb2.Empty()) == {}
    request = prediction_pb2.SeldonModelMetadataRequest()
    assert call(rpc(bad_metadata_channel, "Seldon", "ModelMetadata"), request) == {}
