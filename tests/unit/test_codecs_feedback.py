"""REST feedback read without protobuf (codecs/feedback_json.py) must read every payload exactly as
the protobuf parse and decode the original used: the same arrays, reward, routing and puid for a
valid payload, the same error for an invalid one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_wrapper.codecs import feedback_json, seldon_proto
from seldon_wrapper.errors import SeldonMicroserviceException
from tests.unit.json_strategies import json_values, messages


def through_protobuf(payload):
    return seldon_proto.decode_feedback(seldon_proto.parse_json(payload, seldon_proto.Feedback()))


def outcome(decode, payload):
    """Everything the dataplane can observe of a decoded payload, in the order it observes it."""
    try:
        feedback = decode(payload)
    except SeldonMicroserviceException as exc:
        return ("refused", exc.message, exc.status_code)
    seen = [feedback.names, feedback.data_kind, feedback.puid, repr(feedback.reward), feedback.routing]
    try:
        seen.append(feedback.message())
        for build in (feedback.features, feedback.truth):
            array = build()
            seen.append((array.dtype.str, array.shape, json.dumps(array.tolist(), sort_keys=True)))
    except Exception as exc:  # noqa: BLE001 - whatever the protobuf path raises, ours must too
        seen.append((type(exc).__name__, getattr(exc, "message", str(exc))))
    return seen


def same_as_protobuf(payload):
    ours = outcome(feedback_json.decode_feedback, payload)
    assert ours == outcome(through_protobuf, payload)
    return ours


numbers = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**80), 2**80),
    st.sampled_from([3.5e38, -3.4e38, 1e-50, 2**31, -(2**31) - 1, 1.0]),
)
leaves = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=3), st.sampled_from(["1.5", "NaN"]))
anything = json_values(leaves, max_leaves=6)
mostly, some = messages(anything, weight=9)


texts = st.text(max_size=3)
string_map = st.dictionaries(texts, texts, max_size=2)
matrices = st.integers(0, 3).flatmap(
    lambda width: st.lists(st.lists(numbers, min_size=width, max_size=width))
)
metric = some(key=texts, type=st.sampled_from(["COUNTER", "GAUGE", "TIMER"]), value=numbers, tags=string_map)
meta = some(
    puid=texts,
    tags=st.dictionaries(texts, anything, max_size=2),
    routing=st.dictionaries(texts, st.integers(-(2**31), 2**31 - 1), max_size=2),
    requestPath=string_map,
    metrics=st.lists(metric, max_size=2),
)
names = st.lists(texts, max_size=3)
tensor = some(shape=st.lists(st.integers(-1, 4), max_size=3), values=st.lists(numbers, max_size=6))
ndarray = st.one_of(matrices, st.lists(anything, max_size=3))
tftensor = st.just({"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "1"}]}, "floatVal": [1.5]})
data = st.one_of(
    some(names=names, tensor=tensor),
    some(names=names, ndarray=ndarray),
    some(names=names, tftensor=tftensor),
    some(names=names, tensor=tensor, ndarray=ndarray),
)
message = some(meta=meta, data=data)
payloads = some(request=message, response=message, truth=message, reward=numbers)


@settings(max_examples=400, deadline=None)
@given(payloads)
def test_every_payload_reads_as_protobuf_read_it(payload):
    same_as_protobuf(payload)


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({"request": some(data=data)}))
def test_every_request_data_reads_as_protobuf_read_it(payload):
    same_as_protobuf(payload)


def test_a_client_payload_takes_the_plain_path_with_doubles(monkeypatch):
    parsed = []
    monkeypatch.setattr(seldon_proto, "parse_json", lambda *args: parsed.append(args))
    payload = {
        "request": {"meta": {"puid": "p1"}, "data": {"names": ["a", "b"], "ndarray": [[1, 2]]}},
        "response": {
            "meta": {"routing": {"node": 2}, "tags": {"t": 1}, "metrics": [{"key": "k", "value": 3}]},
            "data": {"tensor": {"shape": [1, 1], "values": [0.5]}},
        },
        "reward": 0.1,
        "truth": {"data": {"tensor": {"shape": [1], "values": [3]}}},
    }
    feedback = feedback_json.decode_feedback(payload)
    assert parsed == []  # nothing went through protobuf
    features, truth = feedback.features(), feedback.truth()
    assert (features.tolist(), features.dtype, truth.tolist(), truth.dtype) == (
        [[1.0, 2.0]],
        np.float64,
        [3.0],
        np.float64,
    )
    assert feedback.reward == float(np.float32(0.1))  # the proto field is a float
    assert (feedback.names, feedback.puid, feedback.routing, feedback.data_kind) == (
        ["a", "b"],
        "p1",
        {"node": 2},
        "ndarray",
    )
    monkeypatch.undo()
    assert same_as_protobuf(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"requestX": {}},
        {"reward": "lots"},
        {"reward": "1.5"},  # protobuf takes numeric strings
        {"request": {"data": {"ndarray": [1], "tensor": {"shape": [1], "values": [1]}}}},
        {"request": {"data": {"tensor": {"shape": [3], "values": [1]}}}},
        {"request": {"data": {"ndarray": [[1], [2, 3]]}}},
        {"request": {"data": {"tensor": {"shape": [3], "values": [1]}}, "bogus": 1}},
        {"response": {"meta": {"routing": {"0": 2**31}}}},
        {"response": {"meta": {"metrics": [{"key": "k", "type": "BAD"}]}}},
        {"truth": {"data": {"tftensor": {"dtype": "DT_FLOAT", "floatVal": [1.0]}}}},
        {"request": {"strData": "s"}, "reward": None},
        {"request": {"data": {"ndarray": [float("nan")]}}},
        {"request": {"data": {"tensor": {"shape": [1], "values": [float("inf")]}}}},
        {"truth": {"meta": {"requestPath": {"a": 1}}}},
        {"truth": {"meta": {"metrics": [{"key": "k", "unit": "s"}]}}},
        {"truth": {"meta": {"metrics": [{"key": "k", "type": "HISTOGRAM"}]}}},
        {"truth": {"meta": {"metrics": [{"key": "k", "value": 1e39}]}}},
        {"truth": {"meta": {"tags": {"a": [1, float("nan")]}}}},
        {"request": {"data": {"names": ["a", 1], "ndarray": []}}},
        {"request": {"data": {"tensor": {"shape": [1.0], "values": [True]}}}},
    ],
)
def test_unusual_payloads_answer_as_protobuf_did(payload):
    same_as_protobuf(payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], "Invalid JSON: Failed to parse 1 field: expected string or bytes-like object, got 'int'."),
        (5, "'int' object is not iterable"),
        (True, "'bool' object is not iterable"),
    ],
)
def test_a_payload_that_is_not_an_object_is_refused_with_the_original_message(payload, message):
    """The original parsed it with protobuf and answered its message (a 500 for numbers)."""
    with pytest.raises(SeldonMicroserviceException) as info:
        feedback_json.decode_feedback(payload)
    assert (info.value.message, info.value.status_code) == (message, 400)


@given(st.one_of(st.lists(anything, max_size=3), st.text(max_size=5), numbers, st.booleans()))
def test_a_payload_that_is_not_an_object_is_handled_as_protobuf_does(payload):
    ours = outcome(feedback_json.decode_feedback, payload)
    theirs = outcome(through_protobuf, payload)
    if theirs[0] == "refused":
        # the original wrapped only protobuf's ParseError in "Invalid JSON: "; a TypeError's text
        # (e.g. for a number) came bare
        assert ours[0] == "refused" and ours[2] == 400
        assert ours[1] in (theirs[1], theirs[1].removeprefix("Invalid JSON: "))
    else:
        assert ours == theirs


def test_a_deeply_nested_payload_is_refused_as_invalid_json():
    deep = {"request": {"data": {"ndarray": [1.0]}}}
    for _ in range(900):  # parseable JSON (under 1,024 levels) but deeper than Python recurses
        deep = {"request": {"data": {"ndarray": [deep["request"]["data"]["ndarray"]]}}}
    with pytest.raises(SeldonMicroserviceException) as info:
        feedback_json.decode_feedback(deep)
    assert info.value.status_code == 400 and info.value.message.startswith("Invalid JSON: ")
