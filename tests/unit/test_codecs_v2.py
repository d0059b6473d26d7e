"""V2 tensor codecs (seldon_wrapper/codecs/v2.py): raw layout, JSON data forms, the binary
tensor data extension, and gRPC typed/raw contents (spec sections 2 and 3.3)."""

from __future__ import annotations

import base64
import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from seldon_wrapper.codecs import seldon_json, v2
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.proto import grpc_predict_v2_pb2 as pb

PROPERTY = settings(max_examples=60, deadline=None)

NUMERIC = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
ALL = [*NUMERIC, "BYTES"]
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


def numeric_arrays(datatype: str, finite: bool = False):
    elements = None
    if finite and datatype.startswith("FP"):
        elements = st.floats(allow_nan=False, allow_infinity=False, width=NUMERIC[datatype].itemsize * 8)
    return hnp.arrays(NUMERIC[datatype], SHAPES, elements=elements)


def object_array(items: list, shape) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array.reshape(shape)


@st.composite
def bytes_arrays(draw, text: bool = False):
    shape = draw(SHAPES)
    count = int(np.prod(shape))
    element = st.text(max_size=8) if text else st.binary(max_size=8)
    return object_array(draw(st.lists(element, min_size=count, max_size=count)), shape)


@st.composite
def any_array(draw, finite: bool = False, text_bytes: bool = False):
    datatype = draw(st.sampled_from(ALL))
    if datatype == "BYTES":
        return datatype, draw(bytes_arrays(text=text_bytes))
    return datatype, draw(numeric_arrays(datatype, finite))


def same(a: np.ndarray, b: np.ndarray) -> None:
    """Equal shape, dtype and values (NaN equals NaN) / equal BYTES elements."""
    assert a.shape == b.shape
    if a.dtype == object or b.dtype == object:
        assert a.dtype == b.dtype == object
        assert a.ravel().tolist() == b.ravel().tolist()
    else:
        assert a.dtype == b.dtype, (a.dtype, b.dtype)
        np.testing.assert_array_equal(a, b)


def wire(head: dict) -> dict:
    """The response head as a client parses it (numpy data serialised as the server does)."""
    return json.loads(seldon_json.dumps(head))


def status_of(call, *args) -> int:
    with pytest.raises(SeldonMicroserviceException) as info:
        call(*args)
    return info.value.status_code


# -- raw layout -------------------------------------------------------------------------------


@PROPERTY
@given(any_array())
def test_raw_round_trip_every_datatype(case):
    datatype, array = case
    raw = v2.raw_from_array(array, datatype)
    decoded = v2.array_from_raw("x", datatype, list(array.shape), raw)
    same(decoded, array)
    assert v2.raw_from_array(decoded, datatype) == raw


@PROPERTY
@given(st.sampled_from(list(NUMERIC)).flatmap(lambda d: st.tuples(st.just(d), numeric_arrays(d))))
def test_raw_is_little_endian_row_major_without_padding(case):
    datatype, array = case
    raw = v2.raw_from_array(array, datatype)
    assert len(raw) == array.size * NUMERIC[datatype].itemsize
    assert raw == np.ascontiguousarray(array).astype(NUMERIC[datatype].newbyteorder("<")).tobytes()


@PROPERTY
@given(numeric_arrays("FP16"))
def test_raw_fp16_is_ieee_half(array):
    raw = v2.raw_from_array(array, "FP16")
    assert len(raw) == 2 * array.size
    same(np.frombuffer(raw, "<f2").reshape(array.shape), array)


@PROPERTY
@given(bytes_arrays())
def test_raw_bytes_are_length_prefixed(array):
    raw = v2.raw_from_array(array, "BYTES")
    expected = b"".join(struct.pack("<I", len(item)) + item for item in array.ravel())
    assert raw == expected


def test_raw_bytes_reference_vector():
    array = object_array([b"one", b"two", b"three"], [3])
    raw = v2.raw_from_array(array, "BYTES")
    assert raw == b"\x03\x00\x00\x00one\x03\x00\x00\x00two\x05\x00\x00\x00three"
    same(v2.array_from_raw("s", "BYTES", [3], raw), array)


def test_raw_bytes_of_str_elements_are_utf8():
    raw = v2.raw_from_array(object_array(["é"], [1]), "BYTES")
    assert raw == b"\x02\x00\x00\x00\xc3\xa9"


@pytest.mark.parametrize(
    "datatype, shape, raw",
    [
        ("FP32", [4], b"\x00" * 8),
        ("INT64", [1], b"\x00" * 9),
        ("FP16", [2], b"\x00" * 3),
        ("BYTES", [1], b"\x05\x00\x00\x00ab"),
        ("BYTES", [1], b"\x01\x00"),
        ("BYTES", [2], b"\x01\x00\x00\x00a"),
    ],
)
def test_raw_of_the_wrong_size_is_a_400(datatype, shape, raw):
    assert status_of(v2.array_from_raw, "x", datatype, shape, raw) == 400


# -- JSON data ---------------------------------------------------------------------------------


@PROPERTY
@given(any_array(finite=True, text_bytes=True))
def test_json_flat_and_nested_decode_the_same(case):
    datatype, array = case
    nested = v2.array_from_json("x", datatype, list(array.shape), array.tolist())
    flat = v2.array_from_json("x", datatype, list(array.shape), array.ravel().tolist())
    same(nested, flat)
    same(flat, array)


@PROPERTY
@given(
    st.sampled_from(["FP32", "INT64", "BOOL"]).flatmap(
        lambda d: st.tuples(st.just(d), numeric_arrays(d, True))
    ),
    st.integers(min_value=1, max_value=3),
)
def test_json_with_the_wrong_element_count_is_a_400(case, extra):
    datatype, array = case
    data = array.ravel().tolist() + array.ravel().tolist()[:1] * extra + [0] * extra
    assert status_of(v2.array_from_json, "x", datatype, list(array.shape), data) == 400


@pytest.mark.parametrize(
    "datatype, data",
    [("FP32", ["a"]), ("INT8", [300]), ("UINT8", [-1]), ("BYTES", [1]), ("INT64", [{"a": 1}])],
)
def test_json_values_that_do_not_fit_the_datatype_are_a_400(datatype, data):
    assert status_of(v2.array_from_json, "x", datatype, [1], data) == 400


@pytest.mark.parametrize(
    "datatype, data",
    [
        ("INT32", [1.5, 2]),  # numpy would truncate to [1, 2]
        ("INT64", [float("nan"), 1]),
        ("INT8", [1.0, 128.0]),
        ("UINT64", [-1, 2**63]),
        ("INT32", [True, False]),
        ("FP32", [True, 2.5]),  # numpy would read True as 1.0
        ("INT16", [[1], [False]]),
        ("FP32", [1e39, 1.0]),  # beyond float32: numpy would answer inf
        ("FP16", [70000.0, 1.0]),
        ("FP64", ["1.5", 2.0]),  # numpy would parse the string
        ("INT32", ["7", 2]),
        ("BOOL", [2, 0]),
        ("BOOL", ["true", False]),
        ("FP64", [1.0, None, True]),
    ],
)
def test_json_values_the_datatype_cannot_hold_as_they_are_are_a_400(datatype, data):
    assert status_of(v2.array_from_json, "x", datatype, [len(data)], data) == 400


@pytest.mark.parametrize(
    "datatype, data, expected",
    [
        ("INT32", [1.0, -2.0], [1, -2]),  # whole numbers lose nothing
        ("FP32", [1, 2], [1.0, 2.0]),
        ("BOOL", [1, 0], [True, False]),
        ("UINT64", [2**64 - 1, 0], [2**64 - 1, 0]),
        ("INT8", [-128, 127], [-128, 127]),
        ("FP64", [float("inf"), 2**70], [float("inf"), float(2**70)]),
    ],
)
def test_json_values_the_datatype_holds_exactly_are_taken(datatype, data, expected):
    assert v2.array_from_json("x", datatype, [2], data).tolist() == expected


def test_a_bool_among_numbers_is_found_unless_the_caller_knows_there_is_none():
    assert status_of(v2.array_from_json, "x", "FP64", [2, 2], [[1.5, 2.0], [True, 3.0]]) == 400
    array = v2.array_from_json("x", "FP64", [2, 2], [[1.5, 2.0], [1.0, 3.0]], bools=False)
    assert array.tolist() == [[1.5, 2.0], [1.0, 3.0]]


def test_json_null_is_nan_for_floats():
    array = v2.array_from_json("x", "FP64", [2], [1.0, None])
    assert array[0] == 1.0 and np.isnan(array[1])


def test_json_bytes_elements_stay_str():
    array = v2.array_from_json("s", "BYTES", [2, 1], [["a"], ["bé"]])
    assert array.dtype == object and array.shape == (2, 1)
    assert array.ravel().tolist() == ["a", "bé"]


# -- JSON requests and the binary tail --------------------------------------------------------


@st.composite
def binary_requests(draw):
    """Inputs each sent as JSON data or in the binary tail, in request order."""
    cases = draw(st.lists(any_array(finite=True, text_bytes=True), min_size=1, max_size=4))
    inputs, tail, expected = [], b"", []
    for index, (datatype, array) in enumerate(cases):
        item = {"name": f"in{index}", "datatype": datatype, "shape": list(array.shape)}
        if draw(st.booleans()):
            raw = v2.raw_from_array(array, datatype)
            item["parameters"] = {"binary_data_size": len(raw)}
            tail += raw
            if datatype == "BYTES":  # binary BYTES elements arrive as bytes
                array = object_array([str(s).encode("utf-8") for s in array.ravel()], array.shape)
        else:
            item["data"] = array.ravel().tolist() if draw(st.booleans()) else array.tolist()
        inputs.append(item)
        expected.append(array)
    return {"inputs": inputs}, tail, expected


@PROPERTY
@given(binary_requests())
def test_decode_json_request_slices_the_binary_tail_in_input_order(case):
    body, tail, expected = case
    request = v2.decode_json_request(json.loads(json.dumps(body)), tail)
    assert [tensor.name for tensor in request.inputs] == [item["name"] for item in body["inputs"]]
    assert request.binary is any("parameters" in item for item in body["inputs"])
    for tensor, array in zip(request.inputs, expected, strict=True):
        same(tensor.array, array)
        assert tensor.shape == list(array.shape)


@PROPERTY
@given(binary_requests(), st.integers(min_value=1, max_value=5))
def test_decode_json_request_rejects_a_short_or_long_tail(case, delta):
    body, tail, _ = case
    if len(tail) >= delta:
        assert status_of(v2.decode_json_request, body, tail[:-delta]) == 400
    assert status_of(v2.decode_json_request, body, tail + b"\x00" * delta) == 400


def test_decode_json_request_fields():
    body = {
        "id": "r1",
        "parameters": {"a": 1},
        "inputs": [{"name": "x", "datatype": "INT32", "shape": [2], "data": [1, 2]}],
        "outputs": [{"name": "o", "parameters": {"binary_data": True}}, {"name": "p"}],
    }
    request = v2.decode_json_request(body)
    assert request.id == "r1"
    assert request.parameters == {"a": 1}
    assert request.outputs == [
        {"name": "o", "parameters": {"binary_data": True}},
        {"name": "p", "parameters": {}},
    ]
    assert request.binary is False


def test_decode_json_request_base64_content_type():
    data = [base64.b64encode(b"\x00\xff").decode(), base64.b64encode(b"hi").decode()]
    item = {
        "name": "b",
        "datatype": "BYTES",
        "shape": [2],
        "data": data,
        "parameters": {"content_type": "base64"},
    }
    body = {"inputs": [item]}
    assert v2.decode_json_request(body).inputs[0].array.tolist() == [b"\x00\xff", b"hi"]
    body["inputs"][0]["data"] = ["%%%", "hi"]
    assert status_of(v2.decode_json_request, body) == 400


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"inputs": []},
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1]}]},
        {"inputs": [{"name": "x", "datatype": "FP99", "shape": [1], "data": [1]}]},
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1.5], "data": [1]}]},
        {"inputs": [{"name": "", "datatype": "FP32", "shape": [1], "data": [1]}]},
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}], "parameters": [1]},
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}], "outputs": [{"x": 1}]},
    ],
)
def test_decode_json_request_rejects_bad_bodies_with_400(body):
    assert status_of(v2.decode_json_request, body) == 400


# -- JSON responses --------------------------------------------------------------------------


@st.composite
def output_tensors(draw):
    cases = draw(st.lists(any_array(finite=True), min_size=1, max_size=4))
    tensors = [
        v2.Tensor(f"out{index}", datatype, list(array.shape), array)
        for index, (datatype, array) in enumerate(cases)
    ]
    binary = {tensor.name for tensor in tensors if draw(st.booleans())}
    return tensors, binary


@PROPERTY
@given(output_tensors())
def test_encode_json_response_binary_outputs(case):
    tensors, binary = case
    head, tail = v2.encode_json_response(tensors, "m", None, "id-1", {}, binary)
    head = wire(head)
    assert head["model_name"] == "m" and head["id"] == "id-1"
    assert "model_version" not in head
    offset = 0
    for entry, tensor in zip(head["outputs"], tensors, strict=True):
        assert (entry["name"], entry["datatype"], entry["shape"]) == (
            tensor.name,
            tensor.datatype,
            tensor.shape,
        )
        if tensor.name in binary:
            assert "data" not in entry
            size = entry["parameters"]["binary_data_size"]
            decoded = v2.array_from_raw(
                tensor.name, tensor.datatype, tensor.shape, tail[offset : offset + size]
            )
            offset += size
            same(decoded, tensor.array)
        else:
            assert "binary_data_size" not in entry.get("parameters", {})
            again = v2.array_from_json(tensor.name, tensor.datatype, entry["shape"], entry["data"])
            if tensor.datatype == "BYTES":
                if entry.get("parameters", {}).get("content_type") == "base64":
                    again = object_array([base64.b64decode(s) for s in again.ravel()], again.shape)
                else:
                    again = object_array([s.encode("utf-8") for s in again.ravel()], again.shape)
            same(again, tensor.array)
    assert offset == len(tail)


def test_encode_json_response_fields():
    tensor = v2.Tensor("o", "FP32", [2], np.array([0.5, 1.5], dtype=np.float32), {"content_type": "np"})
    head, tail = v2.encode_json_response([tensor], "m", "v3", None, {"tag": "x"}, set())
    assert tail == b""
    assert wire(head) == {
        "model_name": "m",
        "model_version": "v3",
        "parameters": {"tag": "x"},
        "outputs": [
            {
                "name": "o",
                "datatype": "FP32",
                "shape": [2],
                "parameters": {"content_type": "np"},
                "data": [0.5, 1.5],
            }
        ],
    }


def test_encode_json_response_non_utf8_bytes_are_base64():
    tensor = v2.Tensor("b", "BYTES", [2], object_array([b"\xff", b"ok"], [2]))
    head, _ = v2.encode_json_response([tensor], "m", None, None, {}, set())
    (entry,) = wire(head)["outputs"]
    assert entry["parameters"]["content_type"] == "base64"
    assert [base64.b64decode(s) for s in entry["data"]] == [b"\xff", b"ok"]


# -- gRPC: typed and raw contents ------------------------------------------------------------

TYPED = [d for d in ALL if d != "FP16"]


@st.composite
def proto_cases(draw, typed_only: bool):
    datatypes = TYPED if typed_only else ALL
    cases = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        datatype = draw(st.sampled_from(datatypes))
        array = draw(bytes_arrays()) if datatype == "BYTES" else draw(numeric_arrays(datatype))
        cases.append((datatype, array))
    return cases


def typed_proto(cases) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="m", id="p1")
    for index, (datatype, array) in enumerate(cases):
        item = request.inputs.add(name=f"in{index}", datatype=datatype, shape=list(array.shape))
        getattr(item.contents, v2.CONTENTS_FIELD[datatype]).extend(array.ravel().tolist())
    return request


def raw_proto(cases) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="m")
    for index, (datatype, array) in enumerate(cases):
        request.inputs.add(name=f"in{index}", datatype=datatype, shape=list(array.shape))
        request.raw_input_contents.append(v2.raw_from_array(array, datatype))
    return request


def as_request(response: pb.ModelInferResponse) -> pb.ModelInferRequest:
    """Outputs -> inputs, as V2 chaining does (typed contents and raw contents carried over)."""
    request = pb.ModelInferRequest(model_name=response.model_name, id=response.id)
    for output in response.outputs:
        request.inputs.add(name=output.name, datatype=output.datatype, shape=output.shape).contents.CopyFrom(
            output.contents
        )
    request.raw_input_contents.extend(response.raw_output_contents)
    return request


@PROPERTY
@given(proto_cases(typed_only=True))
def test_typed_request_round_trip(cases):
    request = v2.decode_proto_request(pb.ModelInferRequest.FromString(typed_proto(cases).SerializeToString()))
    assert request.binary is False
    assert request.id == "p1"
    for tensor, (datatype, array) in zip(request.inputs, cases, strict=True):
        assert tensor.datatype == datatype and tensor.shape == list(array.shape)
        same(tensor.array, array)
    response = v2.encode_proto_response(
        pb.ModelInferResponse(), request.inputs, "m", None, request.id, {}, request.binary
    )
    assert list(response.raw_output_contents) == []
    assert response.id == "p1"
    again = v2.decode_proto_request(
        as_request(pb.ModelInferResponse.FromString(response.SerializeToString()))
    )
    for tensor, (_, array) in zip(again.inputs, cases, strict=True):
        same(tensor.array, array)


@PROPERTY
@given(proto_cases(typed_only=False))
def test_raw_request_round_trip(cases):
    request = v2.decode_proto_request(pb.ModelInferRequest.FromString(raw_proto(cases).SerializeToString()))
    assert request.binary is True
    for tensor, (datatype, array) in zip(request.inputs, cases, strict=True):
        assert tensor.datatype == datatype and tensor.shape == list(array.shape)
        same(tensor.array, array)
    response = v2.encode_proto_response(pb.ModelInferResponse(), request.inputs, "m", "2", None, {}, True)
    assert len(response.raw_output_contents) == len(cases)
    assert response.model_version == "2"
    for output in response.outputs:
        assert all(len(getattr(output.contents, name)) == 0 for name in set(v2.CONTENTS_FIELD.values()))
    again = v2.decode_proto_request(
        as_request(pb.ModelInferResponse.FromString(response.SerializeToString()))
    )
    for tensor, (_, array) in zip(again.inputs, cases, strict=True):
        same(tensor.array, array)


def test_fp16_output_of_a_typed_request_goes_raw():
    tensors = [
        v2.Tensor("h", "FP16", [2], np.array([0.5, 2.0], dtype=np.float16)),
        v2.Tensor("i", "INT32", [1], np.array([7], dtype=np.int32)),
    ]
    response = v2.encode_proto_response(pb.ModelInferResponse(), tensors, "m", None, None, {}, False)
    assert len(response.raw_output_contents) == 2
    same(np.frombuffer(response.raw_output_contents[0], "<f2"), tensors[0].array)


def test_mixed_typed_and_raw_inputs_fill_in_order():
    request = pb.ModelInferRequest(model_name="m")
    request.inputs.add(name="a", datatype="INT64", shape=[2]).contents.int64_contents.extend([1, 2])
    request.inputs.add(name="b", datatype="FP32", shape=[1])
    request.raw_input_contents.append(np.array([1.5], "<f4").tobytes())
    decoded = v2.decode_proto_request(request)
    assert decoded.inputs[0].array.tolist() == [1, 2]
    assert decoded.inputs[1].array.tolist() == [1.5]


def test_proto_parameters_round_trip():
    request = typed_proto([("INT64", np.array([1]))])
    request.parameters["s"].string_param = "x"
    request.parameters["i"].int64_param = -3
    request.parameters["b"].bool_param = True
    request.parameters["d"].double_param = 0.25
    request.parameters["u"].uint64_param = 2**64 - 1
    decoded = v2.decode_proto_request(request)
    assert decoded.parameters == {"s": "x", "i": -3, "b": True, "d": 0.25, "u": 2**64 - 1}
    parameters = {"s": "x", "i": -3, "b": True, "d": 0.25}
    response = v2.encode_proto_response(
        pb.ModelInferResponse(), decoded.inputs, "m", None, None, parameters, False
    )
    assert {key: v2.parameter_value(value) for key, value in response.parameters.items()} == parameters


@pytest.mark.parametrize(
    "build",
    [
        lambda: pb.ModelInferRequest(model_name="m"),
        lambda: pb.ModelInferRequest(
            model_name="m",
            inputs=[pb.ModelInferRequest.InferInputTensor(name="x", datatype="FP32", shape=[3])],
        ),
        lambda: pb.ModelInferRequest(
            model_name="m",
            inputs=[pb.ModelInferRequest.InferInputTensor(name="x", datatype="NOPE", shape=[1])],
        ),
        lambda: pb.ModelInferRequest(
            model_name="m",
            inputs=[pb.ModelInferRequest.InferInputTensor(name="x", datatype="INT32", shape=[-1])],
        ),
        lambda: pb.ModelInferRequest(
            model_name="m",
            inputs=[pb.ModelInferRequest.InferInputTensor(name="x", datatype="INT32", shape=[1])],
            raw_input_contents=[b"\x00" * 4, b"\x00" * 4],
        ),
    ],
    ids=["no inputs", "no data", "unknown datatype", "negative shape", "extra raw"],
)
def test_decode_proto_request_rejects_bad_requests_with_400(build):
    assert status_of(v2.decode_proto_request, build()) == 400
