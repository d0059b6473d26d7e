"""executor/v2_rest.py: a V2 answer chained into the next hop's request (spec 3.5)."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seldon_wrapper.executor.seldon_rest import Body
from seldon_wrapper.executor.v2_rest import V2RestPayloads
from seldon_wrapper.executor.walk import WalkError

CHAIN = V2RestPayloads().chain
tensors = st.lists(
    st.fixed_dictionaries(
        {"name": st.text(min_size=1, max_size=8), "datatype": st.sampled_from(["FP32", "INT64", "BYTES"]),
         "shape": st.lists(st.integers(0, 4), max_size=3), "data": st.lists(st.integers(-9, 9), max_size=4)}
    ),
    max_size=3,
)  # fmt: skip
extras = st.dictionaries(
    st.sampled_from(["id", "model_name", "parameters", "model_version"]), st.text(max_size=5)
)


@given(outputs=tensors, other=extras, tail=st.binary(max_size=64))
def test_outputs_become_inputs_and_everything_else_is_kept(outputs, other, tail):
    header = json.dumps({**other, "outputs": outputs}).encode()
    chained = CHAIN(Body(header + tail, "application/json", None, len(header) if tail else None))
    split = chained.header_length if tail else len(chained.data)
    assert json.loads(chained.data[:split]) == {**other, "inputs": outputs}
    assert chained.data[split:] == tail


@given(inputs=tensors)
def test_a_request_passes_unchanged(inputs):
    body = Body(json.dumps({"inputs": inputs, "id": "x"}).encode())
    assert CHAIN(body) is body


def test_a_gzipped_answer_is_read_and_sent_on_plain():
    answer = {"outputs": [{"name": "y", "datatype": "FP32", "shape": [1], "data": [1.5]}]}
    chained = CHAIN(Body(gzip.compress(json.dumps(answer).encode()), "application/json", "gzip"))
    assert chained.content_encoding is None
    assert json.loads(chained.data) == {"inputs": answer["outputs"]}


@pytest.mark.parametrize(
    "body, split, message",
    [
        (b"not json", None, "not JSON"),
        (b"[1, 2]", None, "not a JSON object"),
        (b'{"something": 1}', None, "neither inputs nor outputs"),
        (b'{"outputs": []}', 99, "past the body"),
    ],
)
def test_what_cannot_be_chained_is_the_originals_error(body, split, message):
    with pytest.raises(WalkError) as caught:
        CHAIN(Body(body, "application/json", None, split))
    assert caught.value.message.startswith("Failed to convert kfserving response so it could be chained")
    assert message in caught.value.message
