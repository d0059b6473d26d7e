"""Transformers, routers, combiners and feedback over gRPC (spec 3.8, 3.9, 3.10, 4.1, 4.2).

Every service is served whatever ``--service-type`` says, so the same operation is reached via
its dedicated service and via ``Generic`` (and ``Seldon``/``Router`` for feedback).
"""

import json

import grpc
import numpy as np
import pytest
from google.protobuf import any_pb2

from seldon_wrapper.proto import prediction_pb2
from seldon_wrapper.proto.tensorflow.core.framework import types_pb2
from tests.conftest import module_server, start_server
from tests.e2e.grpc_helpers import (
    call,
    call_error,
    feedback,
    grpc_channel,
    message,
    message_list,
    module_channel,
    rpc,
    tftensor,
    tftensor_to_array,
)

transformer = module_server("E2eTransformer")
transformer_channel = module_channel("transformer")
router = module_server("E2eRouter")
router_channel = module_channel("router")
combiner = module_server("E2eCombiner")
combiner_channel = module_channel("combiner")


@pytest.fixture(scope="module")
def feedback_record(module_tmp):
    return module_tmp / "feedback-record.json"


@pytest.fixture(scope="module")
def feedback_channel(module_tmp, feedback_record):
    params = json.dumps([{"name": "record_path", "value": str(feedback_record), "type": "STRING"}])
    server = start_server("E2eFeedback", "--parameters", params, tmp_path=module_tmp)
    try:
        with grpc_channel(server) as channel:
            yield channel
    finally:
        server.stop()


# -- transformers -----------------------------------------------------------------------------

TRANSFORMS = [
    ("Transformer", "TransformInput", 2),
    ("Generic", "TransformInput", 2),
    ("OutputTransformer", "TransformOutput", 3),
    ("Generic", "TransformOutput", 3),
]
TRANSFORM_IDS = [f"{service}.{method}" for service, method, _ in TRANSFORMS]


@pytest.mark.parametrize("service, method, factor", TRANSFORMS, ids=TRANSFORM_IDS)
def test_transform_ndarray_keeps_meta(transformer_channel, service, method, factor):
    request = {"meta": {"puid": "p", "tags": {"a": 1}}, "data": {"names": ["x", "y"], "ndarray": [[1, 2]]}}
    assert call(rpc(transformer_channel, service, method), message(request)) == {
        "meta": {"puid": "p", "tags": {"a": 1.0}},
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1.0 * factor, 2.0 * factor]]},
    }


@pytest.mark.parametrize("service, method, factor", TRANSFORMS, ids=TRANSFORM_IDS)
def test_transform_tensor_answers_tensor(transformer_channel, service, method, factor):
    request = {"data": {"tensor": {"shape": [2], "values": [1, 2]}}}
    assert call(rpc(transformer_channel, service, method), message(request)) == {
        "meta": {},
        "data": {"tensor": {"shape": [2], "values": [1.0 * factor, 2.0 * factor]}},
    }


@pytest.mark.parametrize("service, method, factor", TRANSFORMS, ids=TRANSFORM_IDS)
def test_transform_tftensor_answers_tftensor(transformer_channel, service, method, factor):
    request = prediction_pb2.SeldonMessage()
    request.data.tftensor.CopyFrom(tftensor(np.array([[1.0, 2.0]]), types_pb2.DT_DOUBLE))
    response = rpc(transformer_channel, service, method)(request, timeout=10)
    assert response.data.WhichOneof("data_oneof") == "tftensor"
    assert response.data.tftensor.dtype == types_pb2.DT_DOUBLE
    assert list(response.data.names) == ["t:0", "t:1"]
    np.testing.assert_array_equal(tftensor_to_array(response.data.tftensor), [[1.0 * factor, 2.0 * factor]])


@pytest.mark.parametrize("service, method, factor", TRANSFORMS, ids=TRANSFORM_IDS)
def test_transform_bin_data_is_bytes(transformer_channel, service, method, factor):
    response = rpc(transformer_channel, service, method)(
        prediction_pb2.SeldonMessage(binData=b"ab"), timeout=10
    )
    assert response.WhichOneof("data_oneof") == "binData"
    assert response.binData == b"ab" * factor


@pytest.mark.parametrize("service", ["Transformer", "Generic"])
def test_transform_input_receives_grpc_meta(transformer_channel, service):
    request = {"meta": {"puid": "p", "tags": {"a": 1}, "routing": {"r": 2}}, "strData": "s"}
    assert call(rpc(transformer_channel, service, "TransformInput"), message(request)) == {
        "meta": {"puid": "p", "tags": {"a": 1.0}},
        "jsonData": {"meta_seen": {"puid": "p", "tags": {"a": 1.0}, "routing": {"r": 2}}},
    }


@pytest.mark.parametrize("service", ["OutputTransformer", "Generic"])
def test_transform_output_str_data(transformer_channel, service):
    response = call(rpc(transformer_channel, service, "TransformOutput"), message({"strData": "abc"}))
    assert response == {"meta": {}, "strData": "ABC"}


def test_predict_without_predict_method_answers_empty(transformer_channel):
    response = call(rpc(transformer_channel, "Model", "Predict"), message({"data": {"ndarray": [[1, 2]]}}))
    assert response == {"meta": {}, "data": {"ndarray": []}}


# -- routers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["Router", "Generic"])
def test_route_ndarray_keeps_puid_not_request_tags(router_channel, service):
    request = {"meta": {"puid": "p", "tags": {"x": 1}}, "data": {"ndarray": [[1]]}}
    assert call(rpc(router_channel, service, "Route"), message(request)) == {
        "meta": {"puid": "p"},
        "data": {"names": ["t:0"], "ndarray": [[1.0]]},
    }


@pytest.mark.parametrize("service", ["Router", "Generic"])
def test_route_tensor_answers_tensor(router_channel, service):
    request = {"data": {"tensor": {"shape": [1, 1], "values": [2]}}}
    assert call(rpc(router_channel, service, "Route"), message(request)) == {
        "meta": {},
        "data": {"names": ["t:0"], "tensor": {"shape": [1, 1], "values": [2.0]}},
    }


def test_route_tftensor_answers_tftensor(router_channel):
    request = prediction_pb2.SeldonMessage()
    request.data.tftensor.CopyFrom(tftensor(np.array([[1]]), types_pb2.DT_INT32))
    response = rpc(router_channel, "Router", "Route")(request, timeout=10)
    assert response.data.WhichOneof("data_oneof") == "tftensor"
    assert list(response.data.names) == ["t:0"]
    np.testing.assert_array_equal(tftensor_to_array(response.data.tftensor), [[1]])


def test_route_seldon_response_runtime_tags(router_channel):
    request = {"meta": {"puid": "q"}, "data": {"ndarray": [[-3]]}}
    assert call(rpc(router_channel, "Router", "Route"), message(request)) == {
        "meta": {"puid": "q", "tags": {"routed": "yes"}},
        "data": {"names": ["t:0"], "ndarray": [[0.0]]},
    }


def test_route_true_is_a_bool_ndarray(router_channel):
    response = call(
        rpc(router_channel, "Router", "Route"), message({"data": {"tensor": {"shape": [1], "values": [-2]}}})
    )
    assert response == {"meta": {}, "data": {"names": ["t:0"], "ndarray": [[True]]}}


def test_route_numpy_int_is_rejected(router_channel):
    error = call_error(rpc(router_channel, "Router", "Route"), message({"data": {"ndarray": [[-1]]}}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Routing response must be int" in error.details()
    assert call(rpc(router_channel, "Router", "Route"), message({"data": {"ndarray": [[0]]}}))["data"] == {
        "names": ["t:0"],
        "ndarray": [[0.0]],
    }


def test_route_tag_numbers_arrive_as_floats(router_channel):
    # route_to comes from meta.tags, where gRPC numbers are floats: 2.0 is not an int route.
    request = {"meta": {"tags": {"route_to": 2}}, "data": {"ndarray": [[0]]}}
    error = call_error(rpc(router_channel, "Router", "Route"), message(request))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Routing response must be int but got 2.0" in error.details()


def test_router_send_feedback_without_method_answers_empty(router_channel):
    request = feedback({"request": {"data": {"ndarray": [[1, 2]]}}, "reward": 1})
    assert call(rpc(router_channel, "Router", "SendFeedback"), request) == {
        "meta": {},
        "data": {"ndarray": []},
    }


# -- combiners --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["Combiner", "Generic"])
def test_aggregate_sums_and_merges_meta(combiner_channel, service):
    request = message_list(
        {
            "meta": {
                "puid": "first",
                "tags": {"input-1": "yes", "common": 1},
                "requestPath": {"m1": "i1"},
                "metrics": [{"key": "a", "type": "GAUGE", "value": 1}],
            },
            "data": {"ndarray": [[1, 2]]},
        },
        {
            "meta": {
                "puid": "second",
                "tags": {"input-2": "yes", "common": 2},
                "requestPath": {"m2": "i2"},
                "metrics": [{"key": "b", "value": 2}],
            },
            "data": {"ndarray": [[3, 4]]},
        },
    )
    assert call(rpc(combiner_channel, service, "Aggregate"), request) == {
        "meta": {
            "puid": "first",
            "tags": {"common": 2.0, "input-1": "yes", "input-2": "yes", "mytag": 1.0},
            "requestPath": {"m1": "i1", "m2": "i2"},
            "metrics": [{"key": "a", "type": "GAUGE", "value": 1.0}, {"key": "b", "value": 2.0}],
        },
        "data": {"names": ["t:0", "t:1"], "ndarray": [[4.0, 6.0]]},
    }


def test_aggregate_first_message_decides_tensor(combiner_channel):
    request = message_list(
        {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}},
        {"data": {"ndarray": [[10, 20]]}},
    )
    assert call(rpc(combiner_channel, "Combiner", "Aggregate"), request) == {
        "meta": {"tags": {"mytag": 1.0}},
        "data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [11.0, 22.0]}},
    }


def test_aggregate_passes_names_per_message(combiner_channel):
    request = message_list(
        {"data": {"names": ["a", "b"], "ndarray": [[1, 2]]}},
        {"data": {"ndarray": [[1, 1]]}},
    )
    assert call(rpc(combiner_channel, "Combiner", "Aggregate"), request) == {
        "meta": {"tags": {"mytag": 1.0, "names": [["a", "b"], []]}},
        "data": {"names": ["t:0", "t:1"], "ndarray": [[2.0, 3.0]]},
    }


def test_aggregate_non_array_payloads(combiner_channel):
    packed = any_pb2.Any()
    packed.Pack(prediction_pb2.Status(info="x"))
    request = prediction_pb2.SeldonMessageList(
        seldonMessages=[
            prediction_pb2.SeldonMessage(strData="s"),
            prediction_pb2.SeldonMessage(binData=b"b"),
            message({"jsonData": {"j": 1}}),
            prediction_pb2.SeldonMessage(customData=packed),
        ]
    )
    assert call(rpc(combiner_channel, "Generic", "Aggregate"), request) == {
        "meta": {"tags": {"mytag": 1.0}},
        "jsonData": {"kinds": ["str", "bytes", "dict", "Any"]},
    }


def test_aggregate_of_an_empty_list_is_invalid_argument(combiner_channel):
    error = call_error(rpc(combiner_channel, "Combiner", "Aggregate"), prediction_pb2.SeldonMessageList())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().strip()
    assert call(rpc(combiner_channel, "Combiner", "Aggregate"), message_list({"data": {"ndarray": [1]}})) == {
        "meta": {"tags": {"mytag": 1.0}},
        "data": {"ndarray": [1.0]},
    }


def test_aggregate_with_an_empty_message_is_invalid_argument(combiner_channel):
    request = prediction_pb2.SeldonMessageList(
        seldonMessages=[message({"data": {"ndarray": [1]}}), prediction_pb2.SeldonMessage()]
    )
    error = call_error(rpc(combiner_channel, "Combiner", "Aggregate"), request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().strip()


# -- feedback ---------------------------------------------------------------------------------

FEEDBACK_SERVICES = ["Model", "Generic", "Router", "Seldon"]


@pytest.mark.parametrize("service", FEEDBACK_SERVICES)
def test_feedback_reaches_send_feedback(feedback_channel, feedback_record, service):
    request = feedback(
        {
            "request": {
                "meta": {"puid": "fp", "tags": {"t": 1}},
                "data": {"names": ["a", "b"], "ndarray": [[1, 2]]},
            },
            "response": {"meta": {"routing": {"0": 1}}, "data": {"ndarray": [[9]]}},
            "reward": 2,
            "truth": {"data": {"tensor": {"shape": [1, 1], "values": [1]}}},
        }
    )
    # [[1, 2]] back for reward 2; puid of the request is kept, its tags are not.
    assert call(rpc(feedback_channel, service, "SendFeedback"), request) == {
        "meta": {"puid": "fp"},
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]},
    }
    assert json.loads(feedback_record.read_text()) == {
        "features": [[1.0, 2.0]],
        "features_dtype": "float64",
        "feature_names": ["a", "b"],
        "reward": 2.0,
        "reward_type": "float",
        "truth": [[1.0]],
        "truth_dtype": "float64",
        "routing": 1,
        "routing_type": "int",
    }


def test_feedback_tensor_request_answers_tensor(feedback_channel, feedback_record):
    request = feedback({"request": {"data": {"tensor": {"shape": [1, 2], "values": [3, 4]}}}, "reward": 1})
    assert call(rpc(feedback_channel, "Model", "SendFeedback"), request) == {
        "meta": {},
        "data": {"tensor": {"shape": [0]}},
    }
    record = json.loads(feedback_record.read_text())
    assert (record["features"], record["truth"], record["routing"]) == ([[3.0, 4.0]], [], None)


def test_feedback_without_request(feedback_channel, feedback_record):
    request = feedback({"reward": 0.5})
    assert call(rpc(feedback_channel, "Seldon", "SendFeedback"), request) == {
        "meta": {},
        "data": {"tensor": {"shape": [0]}},
    }
    record = json.loads(feedback_record.read_text())
    assert (record["features"], record["feature_names"], record["reward"]) == ([], [], 0.5)


def test_feedback_str_data_request_has_no_features(feedback_channel, feedback_record):
    request = feedback({"request": {"strData": "s"}, "reward": 1})
    assert call(rpc(feedback_channel, "Generic", "SendFeedback"), request) == {
        "meta": {},
        "data": {"tensor": {"shape": [0]}},
    }
    assert json.loads(feedback_record.read_text())["features"] == []
