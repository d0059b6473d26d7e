"""SeldonMessage codecs: REST JSON (spec 3.2/3.4), gRPC proto (3.3/3.5) and tftensor."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from google.protobuf import any_pb2, json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from seldon_wrapper.codecs import seldon_json, seldon_proto, tftensor
from seldon_wrapper.codecs.message import DATA, NDARRAY, TENSOR, TFTENSOR
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.proto import prediction_pb2
from seldon_wrapper.proto.tensorflow.core.framework import tensor_pb2, types_pb2

PROPERTY = settings(max_examples=60, deadline=None)

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FINITE = st.floats(allow_nan=False, allow_infinity=False)


def t_names(n: int) -> list[str]:
    return [f"t:{i}" for i in range(n)]


def rest_roundtrip(request: dict, result=None) -> dict:
    """decode -> (identity user) -> encode -> bytes on the wire -> parsed JSON."""
    decoded = seldon_json.decode_message(request)
    out = decoded.features if result is None else result
    response = seldon_json.encode_response(out, decoded.data_kind, {}, t_names)
    return json.loads(seldon_json.dumps(response))


def matrices(elements):
    return st.integers(min_value=1, max_value=5).flatmap(
        lambda rows: st.integers(min_value=0, max_value=5).flatmap(
            lambda cols: st.lists(
                st.lists(elements, min_size=cols, max_size=cols), min_size=rows, max_size=rows
            )
        )
    )


def same_values(actual, expected) -> bool:
    """Equal values *and* the same JSON number kind (int stays int, float stays float)."""
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same_values(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return type(actual) is type(expected) and actual == expected


# -- REST: round trips -----------------------------------------------------------------------------


@PROPERTY
@given(matrices(INT64))
def test_rest_int_ndarray_roundtrip(values):
    out = rest_roundtrip({"data": {"ndarray": values}})
    assert out["meta"] == {}
    assert out["data"]["names"] == t_names(len(values[0]))
    assert set(out["data"]) == {"names", "ndarray"}
    assert same_values(out["data"]["ndarray"], values)


@PROPERTY
@given(matrices(FINITE))
def test_rest_float_ndarray_roundtrip(values):
    out = rest_roundtrip({"data": {"ndarray": values}})
    assert set(out["data"]) == {"names", "ndarray"}
    assert same_values(out["data"]["ndarray"], values)


@PROPERTY
@given(st.sampled_from([INT64, FINITE]).flatmap(matrices))
def test_rest_tensor_in_tensor_out(values):
    flat = [v for row in values for v in row]
    shape = [len(values), len(values[0])]
    out = rest_roundtrip({"data": {"names": ["a"], "tensor": {"shape": shape, "values": flat}}})
    assert set(out["data"]) == {"names", "tensor"}
    assert out["data"]["names"] == t_names(shape[1])
    assert out["data"]["tensor"]["shape"] == shape
    assert same_values(out["data"]["tensor"]["values"], flat)


@PROPERTY
@given(st.lists(FINITE, max_size=10))
def test_rest_1d_tensor_has_no_names(flat):
    out = rest_roundtrip({"data": {"tensor": {"shape": [len(flat)], "values": flat}}})
    assert out["data"] == {"names": [], "tensor": {"shape": [len(flat)], "values": flat}}


def test_rest_decode_ndarray_dtypes():
    assert seldon_json.decode_message({"data": {"ndarray": [[1, 2]]}}).features.dtype == np.int64
    assert seldon_json.decode_message({"data": {"ndarray": [[1, 2.5]]}}).features.dtype == np.float64
    strings = seldon_json.decode_message({"data": {"ndarray": [[1, "b"]]}}).features
    assert strings.tolist() == [["1", "b"]]


def test_rest_decode_tensor():
    decoded = seldon_json.decode_message({"data": {"tensor": {"shape": [2, 2], "values": [1, 2, 3, 4]}}})
    assert decoded.features.tolist() == [[1, 2], [3, 4]]
    assert decoded.features.dtype == np.int64
    assert decoded.data_kind == TENSOR
    assert decoded.names == []
    assert decoded.meta is None


def test_rest_decode_names_and_meta_passed_through():
    decoded = seldon_json.decode_message(
        {"meta": {"puid": "abc"}, "data": {"names": ["x", "y"], "ndarray": [[1, 2]]}}
    )
    assert decoded.names == ["x", "y"]
    assert decoded.meta == {"puid": "abc"}
    assert decoded.data_kind == NDARRAY


def test_rest_empty_data_is_empty_float_array():
    decoded = seldon_json.decode_message({"data": {"names": ["a"]}})
    assert decoded.features.shape == (0,)
    assert decoded.features.dtype == np.float64
    assert decoded.data_kind == DATA


def test_rest_output_names_not_echoed_from_input():
    out = rest_roundtrip({"data": {"names": ["a", "b"], "ndarray": [[1, 2]]}})
    assert out == {"data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]}, "meta": {}}


def test_rest_class_names_callable_used_for_2d():
    response = seldon_json.encode_response(np.array([[1, 2]]), NDARRAY, {}, lambda n: ["c1", "c2"])
    assert response["data"]["names"] == ["c1", "c2"]


def test_rest_3d_output_names_from_second_dimension():
    out = rest_roundtrip({"data": {"ndarray": [[[1, 2, 3]]]}})
    assert out["data"] == {"names": ["t:0"], "ndarray": [[[1, 2, 3]]]}


# -- REST: str/bin/json payloads -----------------------------------------------------------------


def test_rest_strdata_roundtrip():
    decoded = seldon_json.decode_message({"strData": "hello"})
    assert (decoded.features, decoded.names, decoded.data_kind) == ("hello", [], None)
    assert rest_roundtrip({"strData": "hello"}) == {"strData": "hello", "meta": {}}


def test_rest_bindata_roundtrip():
    payload = bytes(range(256))
    encoded = base64.b64encode(payload).decode()
    decoded = seldon_json.decode_message({"binData": encoded})
    assert decoded.features == payload
    assert rest_roundtrip({"binData": encoded}) == {"binData": encoded, "meta": {}}


def test_rest_jsondata_roundtrip():
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": 1}}
    decoded = seldon_json.decode_message({"jsonData": value})
    assert decoded.features == value
    assert rest_roundtrip({"jsonData": value}) == {"jsonData": value, "meta": {}}


def test_rest_payload_priority():
    assert seldon_json.decode_message({"strData": "x", "data": {"ndarray": [1]}}).features.tolist() == [1]
    assert seldon_json.decode_message({"strData": "x", "jsonData": {"a": 1}}).features == {"a": 1}
    assert seldon_json.decode_message({"binData": "eA==", "strData": "s"}).features == "s"


@pytest.mark.parametrize("payload", ["strData", "binData", "jsonData"])
def test_rest_non_data_in_numeric_array_out_is_tensor(payload):
    request = {"strData": "x", "binData": "eA==", "jsonData": {"a": 1}}
    out = rest_roundtrip({payload: request[payload]}, result=np.array([[1.5, 2.5]]))
    assert out["data"] == {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [1.5, 2.5]}}


def test_rest_non_data_in_string_array_out_is_ndarray():
    out = rest_roundtrip({"strData": "x"}, result=np.array([["a", "b"]]))
    assert out["data"] == {"names": ["t:0", "t:1"], "ndarray": [["a", "b"]]}


def test_rest_ndarray_in_list_result_keeps_python_values():
    out = rest_roundtrip({"data": {"ndarray": [[0]]}}, result=[[1, 2]])
    assert same_values(out["data"]["ndarray"], [[1, 2]])


def test_rest_list_result_values_kept_verbatim_but_tensor_is_from_array():
    out = rest_roundtrip({"data": {"ndarray": [[0]]}}, result=[[1, 2.5]])
    assert same_values(out["data"]["ndarray"], [[1, 2.5]])
    out = rest_roundtrip({"data": {"tensor": {"shape": [1], "values": [0]}}}, result=[[1, 2.5]])
    assert same_values(out["data"]["tensor"]["values"], [1.0, 2.5])


def test_rest_int_array_from_strdata_stays_int():
    out = rest_roundtrip({"strData": "x"}, result=np.array([[1, 2]]))
    assert same_values(out["data"]["tensor"]["values"], [1, 2])


def test_rest_float32_widened():
    out = rest_roundtrip({"data": {"ndarray": [[0]]}}, result=np.array([[0.1]], dtype=np.float32))
    assert out["data"]["ndarray"] == [[0.10000000149011612]]
    raw = seldon_json.dumps(
        seldon_json.encode_response(np.array([0.1], dtype=np.float32), TENSOR, {}, t_names)
    )
    assert b'"values":[0.10000000149011612]' in raw


def test_rest_zero_dim_array_is_scalar():
    assert rest_roundtrip({"data": {"ndarray": [1]}}, result=np.array(True))["data"] == {
        "names": [],
        "ndarray": True,
    }
    assert rest_roundtrip({"data": {"ndarray": [1]}}, result=np.array(7))["data"] == {
        "names": [],
        "ndarray": 7,
    }


@pytest.mark.parametrize("kind", [TENSOR, NDARRAY, DATA, None])
def test_rest_bool_array_is_always_ndarray(kind):
    response = seldon_json.encode_response(np.array([[True, False]]), kind, {}, t_names)
    assert json.loads(seldon_json.dumps(response))["data"] == {
        "names": ["t:0", "t:1"],
        "ndarray": [[True, False]],
    }


def test_rest_empty_data_in_numeric_out_is_ndarray():
    out = rest_roundtrip({"data": {}}, result=np.array([[1.0, 2.0]]))
    assert out["data"] == {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]}


def test_rest_tftensor_in_tftensor_out():
    request = {
        "data": {
            "tftensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "2"}]}, "floatVal": [1.5, 2.5]}
        }
    }
    decoded = seldon_json.decode_message(request)
    assert decoded.features.dtype == np.float32
    assert decoded.features.tolist() == [1.5, 2.5]
    out = rest_roundtrip(request)
    tft = out["data"]["tftensor"]
    assert tft["dtype"] == "DT_FLOAT"
    assert tft["tensorShape"] == {"dim": [{"size": "2"}]}
    again = seldon_json.decode_message({"data": {"tftensor": tft}})
    assert again.features.dtype == np.float32
    assert again.features.tolist() == [1.5, 2.5]


@pytest.mark.parametrize("result", [5, 1.5, None, (1, 2), np.float64(1.0)])
def test_rest_unknown_result_type(result):
    with pytest.raises(SeldonMicroserviceException) as info:
        seldon_json.encode_response(result, NDARRAY, {}, t_names)
    assert info.value.message.startswith("Unknown data type returned as payload (must be list or np array):")
    assert info.value.status_code == 400


@pytest.mark.parametrize("request_obj", [[1, 2], "text", 5, {"meta": {}}, {"foo": 1}])
def test_rest_invalid_request(request_obj):
    with pytest.raises(SeldonMicroserviceException) as info:
        seldon_json.decode_message(request_obj)
    assert info.value.message.startswith("Invalid request data type:")


def test_rest_ragged_ndarray_is_client_error():
    with pytest.raises(SeldonMicroserviceException):
        seldon_json.decode_message({"data": {"ndarray": [[1, 2], [3]]}})


def test_rest_meta_is_passed_back():
    meta = {"puid": "p1", "tags": {"a": 1}}
    response = seldon_json.encode_response("x", None, meta, t_names)
    assert response == {"strData": "x", "meta": {"puid": "p1", "tags": {"a": 1}}}


# -- dumps / loads ---------------------------------------------------------------------------------


def test_dumps_sorted_compact_with_newline():
    assert seldon_json.dumps({"b": 1, "a": {"d": 2, "c": [1, 2]}}) == b'{"a":{"c":[1,2],"d":2},"b":1}\n'


def test_dumps_keeps_nan_and_infinity_tokens():
    assert seldon_json.dumps({"x": float("nan")}) == b'{"x":NaN}\n'
    assert seldon_json.dumps({"b": [float("inf"), -float("inf")], "a": None}) == (
        b'{"a":null,"b":[Infinity,-Infinity]}\n'
    )


def test_dumps_nan_inside_numpy_array():
    response = seldon_json.encode_response(np.array([[np.nan, 1.0]]), NDARRAY, {}, t_names)
    expected = b'{"data":{"names":["t:0","t:1"],"ndarray":[[NaN,1.0]]},"meta":{}}\n'
    assert seldon_json.dumps(response) == expected


def test_dumps_null_without_nan():
    assert seldon_json.dumps({"a": None}) == b'{"a":null}\n'


def test_dumps_numpy_scalars_and_arrays():
    assert seldon_json.dumps({"a": np.int64(3), "b": np.float32(0.5), "c": np.array([1, 2])}) == (
        b'{"a":3,"b":0.5,"c":[1,2]}\n'
    )


def test_loads_accepts_nan_and_big_ints():
    parsed = seldon_json.loads(b'{"a": NaN, "b": 123456789012345678901234567890}')
    assert np.isnan(parsed["a"])
    assert parsed["b"] == 123456789012345678901234567890


@PROPERTY
@given(
    st.recursive(
        st.none() | st.booleans() | INT64 | FINITE | st.text(),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
        max_leaves=20,
    )
)
def test_dumps_loads_roundtrip(value):
    text = seldon_json.dumps(value)
    assert text.endswith(b"\n")
    assert seldon_json.loads(text) == value


# -- gRPC proto ------------------------------------------------------------------------------------


def proto_ndarray(values) -> prediction_pb2.SeldonMessage:
    message = prediction_pb2.SeldonMessage()
    json_format.ParseDict({"data": {"ndarray": values}}, message)
    return message


def test_proto_ndarray_ints_become_floats():
    decoded = seldon_proto.decode_message(proto_ndarray([[1, 2]]))
    assert decoded.features.dtype == np.float64
    assert decoded.features.tolist() == [[1.0, 2.0]]
    assert decoded.data_kind == NDARRAY
    assert list(decoded.names) == []
    assert decoded.meta == {}


def test_proto_ndarray_mixed_becomes_strings():
    assert seldon_proto.decode_message(proto_ndarray(["a", 1])).features.tolist() == ["a", "1.0"]


def test_proto_meta_tags_numbers_are_floats():
    message = proto_ndarray([1])
    json_format.ParseDict({"puid": "p", "tags": {"a": 1}}, message.meta)
    decoded = seldon_proto.decode_message(message)
    assert decoded.meta == {"puid": "p", "tags": {"a": 1.0}}
    assert isinstance(decoded.meta["tags"]["a"], float)


@PROPERTY
@given(st.lists(FINITE, min_size=0, max_size=24), st.sampled_from([1, 2, 3]))
def test_proto_tensor_fast_path_float64_roundtrip(flat, rows):
    flat = flat[: len(flat) - len(flat) % rows]
    shape = [rows, len(flat) // rows]
    message = prediction_pb2.SeldonMessage()
    message.data.tensor.shape.extend(shape)
    message.data.tensor.values.extend(flat)
    message.data.names.extend(["x"])
    decoded = seldon_proto.decode_message(message)
    assert decoded.features.dtype == np.float64
    assert decoded.features.shape == tuple(shape)
    assert decoded.features.ravel().tolist() == flat
    assert list(decoded.names) == ["x"]
    response = seldon_proto.encode_response(decoded.features, decoded.data_kind, {}, t_names)
    assert response.data.WhichOneof("data_oneof") == "tensor"
    assert list(response.data.tensor.shape) == shape
    assert list(response.data.tensor.values) == flat
    assert list(response.data.names) == t_names(shape[1])


def test_proto_encode_int_tensor_values_are_doubles():
    response = seldon_proto.encode_response([[1, 2]], TENSOR, {}, t_names)
    assert json_format.MessageToDict(response) == {
        "data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [1.0, 2.0]}},
        "meta": {},
    }


def test_proto_encode_ndarray_ints_become_floats():
    response = seldon_proto.encode_response(np.array([[1, 2]]), NDARRAY, {}, t_names)
    assert json_format.MessageToDict(response)["data"] == {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]}


def test_proto_1d_names_empty():
    response = seldon_proto.encode_response(np.array([1.0, 2.0]), NDARRAY, {}, t_names)
    assert list(response.data.names) == []
    assert json_format.MessageToDict(response)["data"] == {"ndarray": [1.0, 2.0]}


@pytest.mark.parametrize(
    "kind,result,expected_oneof",
    [
        (None, [[1, 2]], "tensor"),
        (None, [["a", "b"]], "ndarray"),
        (DATA, [[1, 2]], "ndarray"),
        (TENSOR, [["a"]], "ndarray"),
        (TENSOR, [[True]], "ndarray"),
        (NDARRAY, [[1.5]], "ndarray"),
        (TFTENSOR, [[1.5]], "tftensor"),
    ],
)
def test_proto_encoding_choice(kind, result, expected_oneof):
    response = seldon_proto.encode_response(result, kind, {}, t_names)
    assert response.data.WhichOneof("data_oneof") == expected_oneof


def test_proto_tftensor_roundtrip():
    array = np.array([[1.5, 2.5]], dtype=np.float32)
    response = seldon_proto.encode_response(array, TFTENSOR, {}, t_names)
    decoded = seldon_proto.decode_message(response)
    assert decoded.data_kind == TFTENSOR
    assert decoded.features.dtype == np.float32
    assert np.array_equal(decoded.features, array)


def test_proto_non_array_payloads():
    assert seldon_proto.encode_response("s", None, {}, t_names).strData == "s"
    assert seldon_proto.encode_response(b"\x00\x01", None, {}, t_names).binData == b"\x00\x01"
    response = seldon_proto.encode_response({"a": [1, "x"]}, None, {}, t_names)
    assert json_format.MessageToDict(response.jsonData) == {"a": [1.0, "x"]}
    custom = any_pb2.Any(type_url="type.googleapis.com/x", value=b"abc")
    assert seldon_proto.encode_response(custom, None, {}, t_names).customData == custom


def test_proto_decode_non_array_payloads():
    assert seldon_proto.decode_message(prediction_pb2.SeldonMessage(strData="s")).features == "s"
    assert seldon_proto.decode_message(prediction_pb2.SeldonMessage(binData=b"\x01")).features == b"\x01"
    message = prediction_pb2.SeldonMessage()
    json_format.ParseDict({"jsonData": {"n": 1}}, message)
    assert seldon_proto.decode_message(message).features == {"n": 1.0}
    custom = any_pb2.Any(type_url="type.googleapis.com/x", value=b"abc")
    assert seldon_proto.decode_message(prediction_pb2.SeldonMessage(customData=custom)).features == custom


def test_proto_no_payload_is_error():
    with pytest.raises(SeldonMicroserviceException) as info:
        seldon_proto.decode_message(prediction_pb2.SeldonMessage())
    assert info.value.message == "Unknown data in SeldonMessage"


def test_proto_meta_encoded():
    response = seldon_proto.encode_response(
        [[1]], TENSOR, {"puid": "p", "tags": {"a": "b"}, "requestPath": {"n": "img:1"}}, t_names
    )
    assert json_format.MessageToDict(response.meta) == {
        "puid": "p",
        "tags": {"a": "b"},
        "requestPath": {"n": "img:1"},
    }


def test_proto_unknown_result_type():
    with pytest.raises(SeldonMicroserviceException):
        seldon_proto.encode_response(5, None, {}, t_names)


def test_proto_empty_data_decodes_to_empty_array():
    message = prediction_pb2.SeldonMessage()
    message.data.names.append("a")
    decoded = seldon_proto.decode_message(message)
    assert decoded.features.shape == (0,)
    assert decoded.data_kind == DATA


# -- tftensor ----------------------------------------------------------------------------------------

NUMERIC_DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_]


@PROPERTY
@given(
    st.sampled_from(NUMERIC_DTYPES).flatmap(
        lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    )
)
def test_tftensor_numeric_roundtrip(array):
    proto = tftensor.from_ndarray(array)
    back = tftensor.to_ndarray(proto)
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    assert np.array_equal(back, array, equal_nan=array.dtype.kind == "f")
    # ...and through the JSON mapping used on REST.
    reparsed = json_format.ParseDict(json_format.MessageToDict(proto), tensor_pb2.TensorProto())
    via_json = tftensor.to_ndarray(reparsed)
    assert via_json.dtype == array.dtype
    assert np.array_equal(via_json, array, equal_nan=array.dtype.kind == "f")


@pytest.mark.parametrize(
    "dtype,tf_dtype",
    [
        (np.float32, types_pb2.DT_FLOAT),
        (np.float64, types_pb2.DT_DOUBLE),
        (np.int32, types_pb2.DT_INT32),
        (np.int64, types_pb2.DT_INT64),
        (np.bool_, types_pb2.DT_BOOL),
    ],
)
def test_tftensor_dtype_mapping(dtype, tf_dtype):
    proto = tftensor.from_ndarray(np.zeros((2, 3), dtype=dtype))
    assert proto.dtype == tf_dtype
    assert [d.size for d in proto.tensor_shape.dim] == [2, 3]


def test_tftensor_numbers_use_tensor_content():
    proto = tftensor.from_ndarray(np.array([1.0, 2.0], dtype=np.float32))
    assert proto.tensor_content == np.array([1.0, 2.0], dtype=np.float32).tobytes()
    assert list(proto.float_val) == []


@pytest.mark.parametrize(
    "tf_dtype,field,values,dtype",
    [
        (types_pb2.DT_FLOAT, "float_val", [1.5, 2.5, 3.5], np.float32),
        (types_pb2.DT_DOUBLE, "double_val", [1.5, 2.5, 3.5], np.float64),
        (types_pb2.DT_INT32, "int_val", [1, -2, 3], np.int32),
        (types_pb2.DT_INT64, "int64_val", [1, -2, 2**40], np.int64),
        (types_pb2.DT_BOOL, "bool_val", [True, False, True], np.bool_),
    ],
)
def test_tftensor_typed_values_equal_tensor_content(tf_dtype, field, values, dtype):
    typed = tensor_pb2.TensorProto(dtype=tf_dtype)
    typed.tensor_shape.dim.add().size = 3
    getattr(typed, field).extend(values)
    content = tensor_pb2.TensorProto(dtype=tf_dtype, tensor_content=np.array(values, dtype=dtype).tobytes())
    content.tensor_shape.dim.add().size = 3
    from_typed, from_content = tftensor.to_ndarray(typed), tftensor.to_ndarray(content)
    assert from_typed.dtype == from_content.dtype == dtype
    assert from_typed.tolist() == from_content.tolist() == np.array(values, dtype=dtype).tolist()


def test_tftensor_single_value_broadcast():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[7.0])
    proto.tensor_shape.dim.add().size = 2
    proto.tensor_shape.dim.add().size = 3
    array = tftensor.to_ndarray(proto)
    assert array.shape == (2, 3)
    assert array.dtype == np.float32
    assert (array == 7.0).all()


def test_tftensor_short_values_repeat_last():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_INT32, int_val=[1, 2])
    proto.tensor_shape.dim.add().size = 4
    assert tftensor.to_ndarray(proto).tolist() == [1, 2, 2, 2]


def test_tftensor_scalar():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, double_val=[2.5])
    array = tftensor.to_ndarray(proto)
    assert array.shape == ()
    assert array.item() == 2.5


def test_tftensor_too_many_values_is_error():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1, 2, 3])
    proto.tensor_shape.dim.add().size = 2
    with pytest.raises(SeldonMicroserviceException):
        tftensor.to_ndarray(proto)


def test_tftensor_strings_roundtrip():
    array = np.array([["a", "héllo"], ["", "z"]])
    proto = tftensor.from_ndarray(array)
    assert proto.dtype == types_pb2.DT_STRING
    assert list(proto.string_val) == [b"a", "héllo".encode(), b"", b"z"]
    back = tftensor.to_ndarray(proto)
    assert back.shape == (2, 2)
    assert back.tolist() == [[b"a", "héllo".encode()], [b"", b"z"]]


def test_tftensor_bytes_roundtrip():
    array = np.array([b"\x00\xff", b"ab"], dtype=object)
    assert tftensor.to_ndarray(tftensor.from_ndarray(array)).tolist() == [b"\x00\xff", b"ab"]


def test_tftensor_from_json_typed_values():
    proto = json_format.ParseDict(
        {"dtype": "DT_INT64", "tensorShape": {"dim": [{"size": "1"}, {"size": "2"}]}, "int64Val": ["5", "6"]},
        tensor_pb2.TensorProto(),
    )
    array = tftensor.to_ndarray(proto)
    assert array.dtype == np.int64
    assert array.tolist() == [[5, 6]]


def test_large_proto_tensor_is_read_from_its_packed_bytes():
    """Tensors of 64+ values are decoded from the serialised packed doubles; same values."""
    from seldon_wrapper.codecs.seldon_proto import datadef_to_array
    from seldon_wrapper.proto import prediction_pb2

    for shape in [(64,), (3, 50), (1000, 100)]:
        values = np.random.default_rng(0).standard_normal(shape)
        data = prediction_pb2.DefaultData()
        data.tensor.shape.extend(shape)
        data.tensor.values.extend(values.ravel().tolist())
        decoded = datadef_to_array(data)
        assert decoded.dtype == np.float64
        assert decoded.shape == shape
        assert np.array_equal(decoded, values)
        decoded[...] = 0  # a writable copy, not a view into the message


def test_long_fraction_digits_are_not_mistaken_for_big_integers():
    """Small floats have 19+ fraction digits in Python's repr; they must parse exactly as floats,
    while a genuine 20-digit integer stays an exact int."""
    from seldon_wrapper.codecs.seldon_json import loads

    values = [0.00012345678901234567, 1.2345678901234567e-05, 0.5]
    text = json.dumps({"v": values, "big": 18446744073709551616, "neg": -9223372036854775809})
    parsed = loads(text.encode())
    assert parsed["v"] == values
    assert parsed["big"] == 18446744073709551616 and isinstance(parsed["big"], int)
    assert parsed["neg"] == -9223372036854775809


@pytest.mark.parametrize(
    "obj",
    [
        {"values": [1.0, float("nan")]},
        {"jsonData": {"a": None}},
        {"a": "null"},
        {"u" * 40: [None]},
        {f"u{i}": i for i in range(40)} | {"z": float("inf")},
    ],
)
def test_dumps_finds_every_null_orjson_writes(obj):
    """orjson writes NaN/inf as null; dumps must re-encode those with the original's tokens."""
    out = seldon_json.dumps(obj)
    assert out == (json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n").encode()


@pytest.mark.parametrize(
    "inner", [b"1", b"NaN", b"123456789012345678901234567890"], ids=["orjson", "nan", "long"]
)
def test_json_nested_deeper_than_the_bound_is_a_value_error(inner):
    deep = b"[" * 20_000 + inner + b"]" * 20_000
    with pytest.raises(ValueError, match="nested deeper than 1024 levels"):
        seldon_json.loads(deep)
    nested = seldon_json.loads(b"[" * 500 + inner + b"]" * 500)
    for _ in range(500):
        (nested,) = nested
    assert nested in (1, 123456789012345678901234567890) or nested != nested  # NaN


def test_bytes_in_an_answer_are_a_500_saying_so_on_both_transports():
    request = {"data": {"tftensor": {"dtype": "DT_STRING", "tensorShape": {"dim": [{"size": "1"}]}}}}
    request["data"]["tftensor"]["stringVal"] = ["YQ=="]
    features = seldon_json.decode_message(request).features
    assert features.tolist() == [b"a"]
    for encode in (
        lambda: seldon_json.dumps(seldon_json.encode_response(features, TFTENSOR, {}, t_names)),
        lambda: seldon_proto.encode_response(features, TFTENSOR, {}, t_names),
    ):
        with pytest.raises(SeldonMicroserviceException) as info:
            encode()
        assert info.value.status_code == 500 and "hold" in info.value.message


def test_an_answer_json_cannot_hold_is_a_500_saying_so():
    with pytest.raises(SeldonMicroserviceException) as info:
        seldon_json.dumps({"jsonData": {"x": object()}})
    assert info.value.status_code == 500 and "JSON cannot hold" in info.value.message
