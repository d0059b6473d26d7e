"""The gRPC protocols' message handling without a network: seldon routes, feedback routing and
routing injection (seldon_grpc.py), V2 chaining and naming (v2_grpc.py), and the client's small
rules (grpc_client.py); properties checked with hypothesis."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st

from seldon_wrapper.executor.grpc_client import (
    GO_CODE_NAMES,
    CallContext,
    as_call_context,
    call_context,
    code_name,
    forwarded,
)
from seldon_wrapper.executor.grpc_server import as_response, graph_metadata_message
from seldon_wrapper.executor.seldon_grpc import SeldonProtoPayloads
from seldon_wrapper.executor.v2_grpc import V2ProtoPayloads, _named
from seldon_wrapper.executor.walk import WalkError
from seldon_wrapper.proto import grpc_predict_v2_pb2 as v2
from seldon_wrapper.proto import prediction_pb2 as pb

PAYLOADS = SeldonProtoPayloads()
V2 = V2ProtoPayloads()

routes_ = st.integers(min_value=-2, max_value=2**31 - 1)
names = st.text(min_size=1, max_size=20)
routing_maps = st.dictionaries(names, st.integers(min_value=-(2**31), max_value=2**31 - 1), max_size=6)


def message(value: dict) -> pb.SeldonMessage:
    return json_format.ParseDict(value, pb.SeldonMessage())


# -- seldon: routes ---------------------------------------------------------------------------------


@given(st.lists(st.tuples(routes_, st.booleans(), st.lists(st.floats(allow_nan=False), max_size=3))))
def test_ndarray_routes_are_each_rows_first_number(rows):
    ndarray = [[route, *rest] if nested else route for route, nested, rest in rows]
    assert PAYLOADS.routes(message({"data": {"ndarray": ndarray}})) == [route for route, _, _ in rows]


@given(st.lists(st.floats(min_value=-1e9, max_value=1e9), max_size=5))
def test_tensor_routes_are_its_values_truncated(values):
    answer = message({"data": {"tensor": {"shape": [len(values)], "values": values}}})
    assert PAYLOADS.routes(answer) == [int(value) for value in values]


def test_tftensor_routes_are_its_int_val():
    answer = pb.SeldonMessage()
    answer.data.tftensor.int_val.extend([1, 0])
    assert PAYLOADS.routes(answer) == [1, 0]


@pytest.mark.parametrize(
    "value", [{}, {"strData": "1"}, {"jsonData": [1]}, {"binData": "AA=="}, {"data": {"names": ["a"]}}]
)
def test_an_answer_without_routable_data_routes_to_all(value):
    assert PAYLOADS.routes(message(value)) == [-1]


@pytest.mark.parametrize("ndarray", [[["left"]], [[]], ["x"], [{"a": 1}], [True]])
def test_an_unreadable_route_is_a_walk_error(ndarray):
    with pytest.raises(WalkError):
        PAYLOADS.routes(message({"data": {"ndarray": ndarray}}))


def test_the_aggregate_request_lists_the_answers_in_order():
    answers = [message({"strData": "a"}), message({"strData": "b"})]
    listed = PAYLOADS.aggregate_request(answers)
    assert isinstance(listed, pb.SeldonMessageList) and list(listed.seldonMessages) == answers


# -- seldon: feedback routing and routing injection ------------------------------------------------


@given(routing_maps, names)
def test_feedback_route_is_the_responses_routing_else_all(routing, node):
    feedback = pb.Feedback()
    feedback.response.meta.routing.update(routing)
    assert PAYLOADS.feedback_route(feedback, node) == routing.get(node, -1)


@given(routing_maps, routing_maps, st.text(max_size=10))
def test_inject_routing_replaces_meta_routing_on_a_copy(before, routing, text):
    original = pb.SeldonMessage(strData=text)
    original.meta.routing.update(before)
    original.meta.puid = "p"
    snapshot = original.SerializeToString(deterministic=True)
    injected = PAYLOADS.inject_routing(original, routing)
    assert dict(injected.meta.routing) == routing
    assert injected.strData == text and injected.meta.puid == "p"
    assert original.SerializeToString(deterministic=True) == snapshot


def test_inject_routing_gives_a_message_without_meta_one():
    assert dict(PAYLOADS.inject_routing(pb.SeldonMessage(), {"a": -1}).meta.routing) == {"a": -1}


# -- V2: chaining and naming -----------------------------------------------------------------------

parameters = st.dictionaries(
    st.text(max_size=8),
    st.one_of(
        st.builds(lambda v: v2.InferParameter(bool_param=v), st.booleans()),
        st.builds(lambda v: v2.InferParameter(int64_param=v), st.integers(-(2**63), 2**63 - 1)),
        st.builds(lambda v: v2.InferParameter(string_param=v), st.text(max_size=8)),
    ),
    max_size=3,
)
outputs = st.lists(
    st.tuples(
        st.text(max_size=8),
        st.sampled_from(["FP64", "INT64", "BYTES"]),
        st.lists(st.integers(0, 5), max_size=3),
        parameters,
        st.lists(st.floats(allow_nan=False), max_size=4),
    ),
    max_size=3,
)


def response_of(id_: str, params: dict, outs: list, raw: list[bytes]) -> v2.ModelInferResponse:
    response = v2.ModelInferResponse(model_name="prev", model_version="7", id=id_, raw_output_contents=raw)
    for key, value in params.items():
        response.parameters[key].CopyFrom(value)
    for name, datatype, shape, out_params, values in outs:
        output = response.outputs.add(name=name, datatype=datatype, shape=shape)
        for key, value in out_params.items():
            output.parameters[key].CopyFrom(value)
        if values:
            output.contents.fp64_contents.extend(values)
    return response


@given(st.text(max_size=10), parameters, outputs, st.lists(st.binary(max_size=8), max_size=3))
def test_v2_chain_turns_outputs_into_inputs(id_, params, outs, raw):
    response = response_of(id_, params, outs, raw)
    request = V2.chain(response)
    assert isinstance(request, v2.ModelInferRequest)
    assert (request.id, request.model_name, request.model_version) == (id_, "", "")
    assert dict(request.parameters) == dict(response.parameters)
    assert list(request.raw_input_contents) == raw and not request.outputs
    assert len(request.inputs) == len(response.outputs)
    for tensor, output in zip(request.inputs, response.outputs, strict=True):
        # the tensors share their field numbers: the input is the output, byte for byte
        assert tensor.SerializeToString(deterministic=True) == output.SerializeToString(deterministic=True)
    assert V2.chain(request) is request  # a request passes unchanged
    # and back: a request answered as itself keeps every field
    assert as_response(request).outputs == response.outputs


@given(st.text(max_size=300), st.text(max_size=5), st.lists(st.binary(max_size=4), max_size=2))
def test_named_sets_the_model_name_without_touching_the_request(name, before, raw):
    request = v2.ModelInferRequest(model_name=before, id="i", raw_input_contents=raw)
    request.inputs.add(name="x", datatype="FP64", shape=[1]).contents.fp64_contents.append(1.0)
    snapshot = request.SerializeToString()
    sent = v2.ModelInferRequest.FromString(_named(request, name))
    assert sent.model_name == name
    sent.model_name = before
    assert sent == request and request.SerializeToString() == snapshot


def test_v2_refuses_to_aggregate():
    with pytest.raises(WalkError, match="not supported over V2 gRPC") as info:
        V2.aggregate_request([v2.ModelInferResponse()])
    assert info.value.payload.code == grpc.StatusCode.UNIMPLEMENTED


def test_v2_has_no_routing_to_inject_or_feedback_to_route():
    response = v2.ModelInferResponse(id="x")
    assert V2.inject_routing(response, {"a": 1}) is response
    assert V2.feedback_route(object(), "a") == -1


# -- the client's rules ----------------------------------------------------------------------------


def test_every_status_code_has_its_go_name():
    assert set(GO_CODE_NAMES) == set(grpc.StatusCode)
    assert code_name(grpc.StatusCode.DEADLINE_EXCEEDED) == "DeadlineExceeded"
    assert code_name(grpc.StatusCode.CANCELLED) == "Canceled"  # Go's spelling


def test_forwarded_metadata_leaves_out_grpcs_own():
    incoming = [
        ("Seldon-Puid", "p"),
        ("authorization", "a"),
        ("user-agent", "grpc-python"),
        ("grpc-timeout", "5S"),
        ("grpc-accept-encoding", "gzip"),
        (":authority", "h"),
        ("content-type", "application/grpc"),
        ("x-bin", b"\x00"),
    ]
    assert forwarded(incoming) == (("seldon-puid", "p"), ("authorization", "a"), ("x-bin", b"\x00"))
    assert as_call_context(CallContext(tuple(incoming), "m", 5.0)) == CallContext(
        forwarded(incoming), "m", 5.0
    )
    assert as_call_context(incoming) == CallContext(forwarded(incoming))
    assert as_call_context(None) == CallContext() == as_call_context(CallContext((), ""))


def test_a_requests_outgoing_metadata_is_forwardable_and_built_once():
    context = CallContext((("seldon-puid", "p"), ("grpc-timeout", "5S"), ("x-bin", b"\x00")), "m", 5.0)
    assert call_context(context) is context
    assert list(context.outgoing) == [("seldon-puid", "p"), ("x-bin", b"\x00")]
    assert context.outgoing is context.outgoing  # every node call of the request sends this one
    assert CallContext().outgoing is None and CallContext((("user-agent", "x"),)).outgoing is None
    assert call_context([("A", "1")]) == CallContext((("a", "1"),))


def test_graph_metadata_without_tensor_lists_has_no_inputs():
    metadata = {
        "name": "p",
        "models": {"a": {"versions": [""]}},
        "graphinputs": None,
        "graphoutputs": {"x": 1},
    }
    message = graph_metadata_message(metadata)
    assert message.name == "p" and list(message.models["a"].versions) == [""]
    assert not message.inputs and not message.outputs
