"""No input crashes a codec: whatever a client sends, each codec answers a value or our client
error (a SeldonMicroserviceException below 500), never another exception. Inputs are random
bytes and near-valid messages with anything in any place; the whole path runs (decode, an
identity model, encode), as a server would run it."""

from __future__ import annotations

import json
import os
import zlib

import numpy as np
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seldon_wrapper.codecs import seldon_json, seldon_proto, tftensor, v2
from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.proto import grpc_predict_v2_pb2 as pb
from seldon_wrapper.proto import prediction_pb2
from seldon_wrapper.proto.tensorflow.core.framework import tensor_pb2
from seldon_wrapper.rest import handler
from seldon_wrapper.rest import v2 as rest_v2
from seldon_wrapper.settings import Settings
from seldon_wrapper.v2_adapter import V2Adapter
from tests.unit.json_strategies import json_values, messages

FUZZ = settings(
    max_examples=int(os.environ.get("SELDON_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class Identity:
    def predict(self, X, names):
        return X


DATAPLANE = Dataplane(Component(Identity()), Settings())
DATAPLANE.component.load()
ADAPTER = V2Adapter(DATAPLANE)


def value_or_client_error(call, *args):
    """Decoding: a value, or a 4xx naming the client's mistake."""
    try:
        return call(*args)
    except SeldonMicroserviceException as exc:
        assert 400 <= exc.status_code < 500, (exc.status_code, exc.message)
        return exc


def answered(call, *args):
    """A whole request: a value, or our error (a 500 when the echoed input cannot be an answer)."""
    try:
        return call(*args)
    except SeldonMicroserviceException as exc:
        return exc


numbers = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(), st.sampled_from([0, 1, -1, 2**31, 2**63, 2**64, 0.5, 1e39])
)
leaves = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=4), st.binary(max_size=4).map(repr))
anything = json_values(leaves, max_leaves=8)
mostly, some = messages(anything, weight=4)


shapes = st.lists(st.integers(-1, 4), max_size=3)
flat = st.lists(numbers, max_size=8)
nested = st.recursive(flat, lambda inner: st.lists(inner, max_size=3), max_leaves=4)

# -- v1 JSON (REST) ---------------------------------------------------------------------------

v1_data = some(
    names=st.lists(st.text(max_size=3), max_size=3),
    tensor=some(shape=shapes, values=flat),
    ndarray=nested,
    tftensor=some(
        dtype=st.sampled_from(["DT_FLOAT", "DT_INT32", "DT_STRING", "DT_BOOL", "DT_X"]), floatVal=flat
    ),
)
v1_messages = some(
    data=v1_data,
    meta=some(puid=st.text(max_size=3), tags=st.dictionaries(st.text(max_size=3), anything, max_size=2)),
    strData=st.text(max_size=5),
    binData=st.text(max_size=8),
    jsonData=anything,
)


@FUZZ
@given(v1_messages)
def test_v1_json_messages_answer_or_refuse(message):
    value_or_client_error(seldon_json.decode_message, message)
    answer = answered(DATAPLANE.predict, message, seldon_json)
    if isinstance(answer, dict):
        answered(seldon_json.dumps, answer)


@FUZZ
@given(st.binary(max_size=64) | v1_messages.map(lambda m: json.dumps(m).encode()[: len(json.dumps(m)) // 2]))
def test_v1_json_bytes_answer_or_refuse(body):
    payload = value_or_client_error(handler.read_json, body)
    if not isinstance(payload, SeldonMicroserviceException):
        answered(DATAPLANE.predict, payload, seldon_json)


# -- v1 protobuf (gRPC) and tftensor --------------------------------------------------------


def parsed(message_type, data: bytes):
    """The message gRPC hands us for these bytes (its own decoding refuses what does not parse)."""
    try:
        return message_type.FromString(data)
    except DecodeError:
        return None


@FUZZ
@given(st.binary(max_size=96) | v1_messages.map(lambda m: _v1_proto_bytes(m)))
def test_v1_protobuf_messages_answer_or_refuse(data):
    message = parsed(prediction_pb2.SeldonMessage, data)
    if message is not None:
        value_or_client_error(seldon_proto.decode_message, message)
        answer = answered(DATAPLANE.predict, message, seldon_proto)
        if isinstance(answer, prediction_pb2.SeldonMessage):
            answer.SerializeToString()


def _v1_proto_bytes(message: dict) -> bytes:
    try:
        return seldon_proto.parse_json(message, prediction_pb2.SeldonMessage()).SerializeToString()
    except SeldonMicroserviceException:
        return b""


@FUZZ
@given(st.binary(max_size=96))
def test_tftensors_decode_or_refuse(data):
    tensor = parsed(tensor_pb2.TensorProto, data)
    if tensor is not None:
        array = value_or_client_error(tftensor.to_ndarray, tensor)
        if isinstance(array, np.ndarray):
            answered(tftensor.from_ndarray, array)


# -- V2 JSON, binary extension, protobuf ------------------------------------------------------

datatypes = st.sampled_from([*v2.DTYPES, "FP128", 7])
v2_inputs = some(
    name=st.text(max_size=3),
    datatype=datatypes,
    shape=shapes,
    data=nested | st.lists(st.text(max_size=3), max_size=3),
    parameters=some(
        content_type=st.sampled_from(["str", "base64", "np"]), binary_data_size=st.integers(-1, 16)
    ),
)
v2_requests = some(
    id=st.text(max_size=3),
    inputs=st.lists(v2_inputs, min_size=1, max_size=2),
    parameters=st.dictionaries(st.text(max_size=3), anything, max_size=2),
    outputs=st.lists(some(name=st.text(max_size=3), parameters=some(binary_data=st.booleans())), max_size=2),
)


@FUZZ
@given(
    v2_requests, st.binary(max_size=32), st.sampled_from([None, "0", "5", "-1", "x", "100000"]), st.booleans()
)
def test_v2_rest_requests_answer_or_refuse(request, tail, header_length, compress):
    head = json.dumps(request).encode()
    body = head + tail
    if header_length is None and tail:
        header_length = str(len(head))
    encoding = ""
    if compress:
        body, encoding = zlib.compress(body), "deflate"
    value_or_client_error(
        rest_v2.infer_response, ADAPTER, ADAPTER.model_name, None, body, header_length, encoding
    )


@FUZZ
@given(st.binary(max_size=128))
def test_v2_rest_bytes_answer_or_refuse(body):
    value_or_client_error(rest_v2.parse_infer_request, body, None, "")
    answered(rest_v2.infer_response, ADAPTER, ADAPTER.model_name, None, body, None, "")


@FUZZ
@given(st.binary(max_size=128) | v2_requests.map(lambda r: _v2_proto_bytes(r)))
def test_v2_protobuf_requests_answer_or_refuse(data):
    request = parsed(pb.ModelInferRequest, data)
    if request is None:
        return
    decoded = value_or_client_error(v2.decode_proto_request, request)
    if isinstance(decoded, v2.Request):
        outputs = answered(ADAPTER.infer, decoded)
        if isinstance(outputs, tuple):
            v2.encode_proto_response(pb.ModelInferResponse(), outputs[0], "m", None, None, outputs[1], False)


def _v2_proto_bytes(request: dict) -> bytes:
    """A ModelInferRequest with the JSON request's headers and typed contents where they fit."""
    out = pb.ModelInferRequest(id=str(request.get("id", "")))
    inputs = request.get("inputs")
    for item in inputs if isinstance(inputs, list) else []:
        if not isinstance(item, dict):
            continue
        tensor = out.inputs.add(name=str(item.get("name", "")), datatype=str(item.get("datatype", "")))
        shape = item.get("shape")
        if isinstance(shape, list) and all(type(d) is int and abs(d) < 2**62 for d in shape):
            tensor.shape.extend(shape)
        values = item.get("data")
        if isinstance(values, list):
            flat_values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            try:
                tensor.contents.fp64_contents.extend(float(v) for v in flat_values)
            except OverflowError:
                pass
    return out.SerializeToString()
