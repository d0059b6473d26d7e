"""seldon_core.utils conversions, as users of the original call them."""

import numpy as np
import pytest
from google.protobuf import json_format
from google.protobuf.any_pb2 import Any

from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.proto import prediction_pb2
from seldon_core.utils import (
    array_to_grpc_datadef,
    array_to_list_value,
    array_to_rest_datadef,
    construct_response,
    construct_response_json,
    extract_feedback_request_parts,
    extract_request_parts,
    extract_request_parts_json,
    feedback_to_json,
    get_data_from_proto,
    get_meta_from_proto,
    getenv,
    getenv_as_bool,
    grpc_datadef_to_array,
    json_to_feedback,
    json_to_seldon_message,
    json_to_seldon_messages,
    json_to_seldon_model_metadata,
    rest_datadef_to_array,
    seldon_message_to_json,
    seldon_messages_to_json,
)


class UserObject:
    def tags(self):
        return {"mytag": "v"}

    def class_names(self):
        return ["c1", "c2"]


class UserObjectFeatures:
    def feature_names(self):
        return ["f1", "f2"]


def test_json_to_seldon_message_round_trip():
    data = {
        "meta": {"puid": "p", "tags": {"a": "b"}},
        "data": {"names": ["x"], "tensor": {"shape": [1, 2], "values": [1, 2]}},
    }
    msg = json_to_seldon_message(data)
    assert isinstance(msg, prediction_pb2.SeldonMessage)
    assert list(msg.data.tensor.values) == [1.0, 2.0]
    assert seldon_message_to_json(msg) == {
        "meta": {"puid": "p", "tags": {"a": "b"}},
        "data": {"names": ["x"], "tensor": {"shape": [1, 2], "values": [1.0, 2.0]}},
    }
    assert json_to_seldon_message(None) == prediction_pb2.SeldonMessage()


def test_json_to_seldon_message_invalid():
    with pytest.raises(SeldonMicroserviceException) as info:
        json_to_seldon_message({"bad": 1})
    assert info.value.status_code == 400
    assert info.value.message.startswith(
        'Invalid JSON: Message type "seldon.protos.SeldonMessage" has no field named "bad"'
    )


def test_feedback_and_message_lists():
    feedback = json_to_feedback(
        {"request": {"data": {"ndarray": [[1, 2]]}}, "truth": {"data": {"ndarray": [[3]]}}, "reward": 1}
    )
    assert isinstance(feedback, prediction_pb2.Feedback)
    assert feedback_to_json(feedback) == {
        "request": {"data": {"ndarray": [[1.0, 2.0]]}},
        "truth": {"data": {"ndarray": [[3.0]]}},
        "reward": 1.0,
    }
    datadef, features, truth, reward = extract_feedback_request_parts(feedback)
    assert isinstance(datadef, prediction_pb2.DefaultData)
    assert (features.tolist(), truth.tolist(), reward) == ([[1.0, 2.0]], [[3.0]], 1.0)
    msgs = json_to_seldon_messages({"seldonMessages": [{"strData": "a"}, {"binData": "AAE="}]})
    assert isinstance(msgs, prediction_pb2.SeldonMessageList)
    assert seldon_messages_to_json(msgs) == {"seldonMessages": [{"strData": "a"}, {"binData": "AAE="}]}


def test_json_to_seldon_model_metadata_ignores_unknown_fields():
    meta = json_to_seldon_model_metadata(
        {
            "name": "m",
            "versions": ["1"],
            "inputs": [{"name": "a", "datatype": "FP32", "shape": [1]}],
            "extra": 1,
        }
    )
    assert isinstance(meta, prediction_pb2.SeldonModelMetadata)
    assert (meta.name, list(meta.inputs[0].shape)) == ("m", [1])


def test_get_data_and_meta_from_proto():
    msg = json_to_seldon_message({"meta": {"puid": "p", "tags": {"a": 1}}, "data": {"ndarray": [[1, 2]]}})
    assert get_data_from_proto(msg).tolist() == [[1.0, 2.0]]
    assert get_meta_from_proto(msg) == {"puid": "p", "tags": {"a": 1.0}}
    assert get_data_from_proto(json_to_seldon_message({"strData": "s"})) == "s"
    assert get_data_from_proto(json_to_seldon_message({"binData": "AAE="})) == b"\x00\x01"
    assert get_data_from_proto(json_to_seldon_message({"jsonData": {"x": [1]}})) == {"x": [1.0]}
    any_msg = Any(type_url="type.googleapis.com/x", value=b"abc")
    assert get_data_from_proto(prediction_pb2.SeldonMessage(customData=any_msg)) == any_msg
    with pytest.raises(SeldonMicroserviceException) as info:
        get_data_from_proto(prediction_pb2.SeldonMessage())
    assert info.value.message == "Unknown data in SeldonMessage"


def test_datadef_conversions():
    arr = np.array([[1, 2], [3, 4]])
    assert array_to_rest_datadef("tensor", arr, ["a", "b"]) == {
        "names": ["a", "b"],
        "tensor": {"shape": (2, 2), "values": [1, 2, 3, 4]},  # the shape is array.shape, a tuple
    }
    assert array_to_rest_datadef("ndarray", arr) == {"names": [], "ndarray": [[1, 2], [3, 4]]}
    tftensor = array_to_rest_datadef("tftensor", np.array([1.5, 2.0]))["tftensor"]
    assert tftensor["dtype"] == "DT_DOUBLE"
    assert rest_datadef_to_array({"tftensor": tftensor}).tolist() == [1.5, 2.0]
    assert (
        rest_datadef_to_array({"tensor": {"shape": [2, 2], "values": [1, 2, 3, 4]}}).tolist() == arr.tolist()
    )
    for data_type in ("tensor", "ndarray", "tftensor"):
        datadef = array_to_grpc_datadef(data_type, arr, ["a", "b"])
        assert isinstance(datadef, prediction_pb2.DefaultData)
        assert datadef.WhichOneof("data_oneof") == data_type
        assert list(datadef.names) == ["a", "b"]
        assert grpc_datadef_to_array(datadef).tolist() == arr.tolist()


def test_array_to_list_value():
    lv = array_to_list_value(np.array([[1, 2], [3, 4]]))
    assert json_format.MessageToDict(lv) == [[1.0, 2.0], [3.0, 4.0]]
    assert json_format.MessageToDict(array_to_list_value(np.array(["a", "b"]))) == ["a", "b"]


def test_extract_request_parts_json():
    features, meta, datadef, data_type = extract_request_parts_json(
        {"meta": {"puid": "p"}, "data": {"names": ["a", "b"], "ndarray": [[1, 2]]}}
    )
    assert (features.tolist(), meta, datadef, data_type) == (
        [[1, 2]],
        {"puid": "p"},
        {"names": ["a", "b"], "ndarray": [[1, 2]]},
        "data",
    )
    assert extract_request_parts_json({"strData": "hi"}) == ("hi", None, None, "strData")
    assert extract_request_parts_json({"binData": "AAE="})[0] == b"\x00\x01"
    with pytest.raises(SeldonMicroserviceException) as info:
        extract_request_parts_json({"foo": 1})
    assert info.value.message == "Invalid request data type: {'foo': 1}"


def test_extract_request_parts():
    msg = json_to_seldon_message(
        {"meta": {"tags": {"a": "b"}}, "data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}}
    )
    features, meta, datadef, data_type = extract_request_parts(msg)
    assert (features.tolist(), meta, data_type) == ([[1.0, 2.0]], {"tags": {"a": "b"}}, "data")
    assert datadef == msg.data
    assert extract_request_parts(json_to_seldon_message({"strData": "x"}))[::3] == ("x", "strData")


def test_construct_response_json():
    request = {
        "meta": {"puid": "P", "tags": {"req": 1}},
        "data": {"names": ["a", "b"], "tensor": {"shape": [1, 2], "values": [1, 2]}},
    }
    response = construct_response_json(
        UserObject(),
        False,
        request,
        np.array([[1, 2]]),
        meta=request["meta"],
        custom_metrics=[{"key": "c", "type": "COUNTER", "value": 1}],
        runtime_tags={"rt": 2},
    )
    assert response == {
        "data": {"names": ["c1", "c2"], "tensor": {"shape": (1, 2), "values": [1, 2]}},
        "meta": {
            "puid": "P",
            "tags": {"req": 1, "mytag": "v", "rt": 2},
            "metrics": [{"key": "c", "type": "COUNTER", "value": 1}],
        },
    }
    assert construct_response_json(UserObject(), False, {"strData": "x"}, "out") == {
        "strData": "out",
        "meta": {"tags": {"mytag": "v"}},
    }
    assert construct_response_json(UserObjectFeatures(), True, request, np.array([[5, 6]]))["data"][
        "names"
    ] == ["f1", "f2"]
    assert construct_response_json(object(), True, request, np.array([[5, 6]]))["data"]["names"] == ["a", "b"]
    with pytest.raises(SeldonMicroserviceException) as info:
        construct_response_json(UserObject(), False, request, 5)
    assert info.value.message == "Unknown data type returned as payload (must be list or np array):5"


def test_construct_response_proto():
    request = json_to_seldon_message({"meta": {"puid": "P"}, "data": {"ndarray": [[1, 2]]}})
    response = construct_response(UserObject(), False, request, np.array([[1, 2]]), runtime_tags={"rt": "x"})
    assert isinstance(response, prediction_pb2.SeldonMessage)
    assert seldon_message_to_json(response) == {
        "meta": {"puid": "P", "tags": {"mytag": "v", "rt": "x"}},
        "data": {"names": ["c1", "c2"], "ndarray": [[1.0, 2.0]]},
    }
    response = construct_response(UserObject(), False, request, {"a": 1})
    assert json_format.MessageToDict(response.jsonData) == {"a": 1.0}


def test_request_path_in_constructed_response(monkeypatch):
    monkeypatch.setenv("PREDICTIVE_UNIT_ID", "node")
    response = construct_response_json(object(), False, {"strData": "x"}, "y")
    assert response["meta"] == {"requestPath": {"node": "NOT_IMPLEMENTED:NOT_IMPLEMENTED"}}


def test_getenv(monkeypatch):
    monkeypatch.setenv("SC_TEST_A", "")
    monkeypatch.setenv("SC_TEST_B", "TRUE")
    monkeypatch.delenv("SC_TEST_NONE", raising=False)
    assert getenv("SC_TEST_NONE", "SC_TEST_A", "SC_TEST_B") == ""
    assert getenv("SC_TEST_NONE", default="d") == "d"
    assert getenv_as_bool("SC_TEST_B") is True
    assert getenv_as_bool("SC_TEST_A", default=True) is False
    assert getenv_as_bool("SC_TEST_NONE", default=True) is True
