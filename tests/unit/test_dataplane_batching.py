"""Batched predict through the dataplane (v1 JSON and protobuf codecs, V2 adapter).

A model holds its first call on a gate while other threads submit, so what gathers behind it
forms one batch deterministically.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from seldon_wrapper.codecs import seldon_json, seldon_proto, v2
from seldon_wrapper.component import Component, SeldonResponse
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.settings import Settings
from seldon_wrapper.v2_adapter import V2Adapter


class Gated:
    """predict doubles X; records each call's X and meta; the first call waits for ``gate``."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.tag_calls = 0
        self.rows_out = None  # set: answer with that many rows
        self.fail: Exception | None = None

    def tags(self) -> dict:
        self.tag_calls += 1
        return {"calls": self.tag_calls}

    def predict(self, X, names, meta=None):
        self.calls.append((np.array(X).shape, list(names or []), meta))
        if len(self.calls) == 1:
            self.entered.set()
            self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        if self.rows_out is not None:
            return np.zeros((self.rows_out, 1))
        rows = np.array(X).shape[0] if np.ndim(X) else 0
        return SeldonResponse(X * 2, tags={"rows": int(rows)})


def dataplane(model, **settings) -> Dataplane:
    return Dataplane(Component(model), Settings(**{"max_batch_size": 8, "max_batch_time_ms": 0, **settings}))


def together(dp: Dataplane, model: Gated, first, later: list, call) -> list:
    """``call(first)`` held in the model while ``later`` requests queue; results in order."""
    results: list = [None] * (1 + len(later))

    def run(index: int, request) -> None:
        try:
            results[index] = call(request)
        except Exception as exc:  # kept for the test to look at
            results[index] = exc

    threads = [threading.Thread(target=run, args=(0, first))]
    threads[0].start()
    assert model.entered.wait(10)
    for index, request in enumerate(later, 1):
        thread = threading.Thread(target=run, args=(index, request))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 10
        while len(dp.batcher._queue) < index:
            assert time.monotonic() < deadline
            time.sleep(0.001)
    model.gate.set()
    for thread in threads:
        thread.join(10)
    return results


def ndarray(rows, puid, names=None):
    data = {"ndarray": rows}
    if names:
        data["names"] = names
    return {"data": data, "meta": {"puid": puid}}


def test_ndarray_requests_are_stacked_and_each_gets_its_rows_puid_and_tags():
    model = Gated()
    dp = dataplane(model)
    later = [ndarray([[2, 2], [3, 3]], "b"), ndarray([[4, 4]], "c")]
    results = together(dp, model, ndarray([[1, 1]], "a"), later, lambda r: dp.predict(r, seldon_json))
    assert [shape for shape, _, _ in model.calls] == [(1, 2), (3, 2)]
    assert [r["data"]["ndarray"].tolist() for r in results] == [[[2, 2]], [[4, 4], [6, 6]], [[8, 8]]]
    assert [r["meta"]["puid"] for r in results] == ["a", "b", "c"]
    # tags() once per call, the same value copied to each member; the result's tags too
    assert [r["meta"]["tags"] for r in results] == [
        {"calls": 1, "rows": 1},
        {"calls": 2, "rows": 3},
        {"calls": 2, "rows": 3},
    ]
    assert model.tag_calls == 2


def test_tensor_requests_stack_and_answer_as_tensors():
    model = Gated()
    dp = dataplane(model)

    def tensor(values, puid):
        return {"data": {"tensor": {"shape": [1, 3], "values": values}}, "meta": {"puid": puid}}

    results = together(
        dp,
        model,
        tensor([0, 0, 0], "a"),
        [tensor([1, 2, 3], "b"), tensor([4, 5, 6], "c")],
        lambda r: dp.predict(r, seldon_json),
    )
    assert model.calls[1][0] == (2, 3)
    assert [r["data"]["tensor"]["values"].tolist() for r in results[1:]] == [[2, 4, 6], [8, 10, 12]]
    assert [r["data"]["tensor"]["shape"] for r in results[1:]] == [[1, 3], [1, 3]]


def test_protobuf_requests_stack_too():
    model = Gated()
    dp = dataplane(model)

    def message(values, puid):
        return seldon_proto.json_to_seldon_message({"data": {"ndarray": [values]}, "meta": {"puid": puid}})

    results = together(
        dp,
        model,
        message([0.0], "a"),
        [message([1.0], "b"), message([2.0], "c")],
        lambda r: dp.predict(r, seldon_proto),
    )
    assert model.calls[1][0] == (2, 1)
    answers = [seldon_proto.message_to_dict(r) for r in results]
    assert [a["data"]["ndarray"] for a in answers] == [[[0.0]], [[2.0]], [[4.0]]]
    assert [a["meta"]["puid"] for a in answers] == ["a", "b", "c"]


def test_mixed_shapes_names_kinds_and_metas_are_never_stacked():
    model = Gated()
    dp = dataplane(model)
    later = [
        ndarray([[1, 1, 1]], "wider"),
        ndarray([[1.5, 1]], "floats"),
        ndarray([[1, 1]], "named", names=["x", "y"]),
        {"data": {"tensor": {"shape": [1, 2], "values": [1, 1]}}, "meta": {"puid": "tensor"}},
        {"data": {"ndarray": [[1, 1]]}, "meta": {"puid": "tagged", "tags": {"t": 1}}},
        {"strData": "text"},
        ndarray([[9, 9]], "same"),
    ]
    results = together(dp, model, ndarray([[0, 0]], "first"), later, lambda r: dp.predict(r, seldon_json))
    shapes = [shape for shape, _, _ in model.calls]
    assert shapes == [(1, 2), (1, 3), (1, 2), (1, 2), (1, 2), (1, 2), (), (1, 2)]
    assert all(not isinstance(r, Exception) for r in results)
    assert results[-1]["data"]["ndarray"].tolist() == [[18, 18]]


def test_a_model_without_meta_stacks_requests_whatever_their_meta():
    class NoMeta(Gated):
        def predict(self, X, names):  # noqa: D102 - the signature is the point
            return super().predict(X, names)

    model = NoMeta()
    dp = dataplane(model)
    later = [{"data": {"ndarray": [[1]]}, "meta": {"tags": {"t": n}}} for n in range(3)]
    results = together(dp, model, ndarray([[0]], "a"), later, lambda r: dp.predict(r, seldon_json))
    assert [shape for shape, _, _ in model.calls] == [(1, 1), (3, 1)]
    assert [r["meta"]["tags"]["t"] for r in results[1:]] == [0, 1, 2]  # each its own request tags


def test_an_exception_reaches_every_member_of_its_batch():
    model = Gated()
    model.fail = SeldonMicroserviceException("model says no", status_code=418)
    dp = dataplane(model)
    results = together(
        dp,
        model,
        ndarray([[0]], "a"),
        [ndarray([[1]], "b"), ndarray([[2]], "c")],
        lambda r: dp.predict(r, seldon_json),
    )
    assert all(isinstance(r, SeldonMicroserviceException) and r.status_code == 418 for r in results)


def test_a_wrong_row_count_answers_500_naming_the_contract_to_every_member():
    model = Gated()
    model.rows_out = 5
    dp = dataplane(model)
    results = together(
        dp,
        model,
        ndarray([[0]], "a"),
        [ndarray([[1]], "b"), ndarray([[2]], "c")],
        lambda r: dp.predict(r, seldon_json),
    )
    assert results[0]["data"]["ndarray"].shape == (5, 1)  # alone: the answer as it is
    for error in results[1:]:
        assert isinstance(error, SeldonMicroserviceException) and error.status_code == 500
        assert "one row per input row" in error.message and "returned 5 rows" in error.message
    assert results[1] is results[2]


def test_v2_tensors_stack_through_the_adapter():
    model = Gated()
    adapter = V2Adapter(dataplane(model))

    def request(values, rid):
        array = np.asarray([values], dtype=np.float64)
        return v2.Request(id=rid, parameters={}, inputs=[v2.Tensor("x", "FP64", [1, 2], array)], outputs=[])

    results = together(
        adapter.dataplane,
        model,
        request([0, 0], "a"),
        [request([1, 2], "b"), request([3, 4], "c")],
        adapter.infer,
    )
    assert model.calls[1][0] == (2, 2)
    assert [outputs[0].array.tolist() for outputs, _ in results] == [[[0, 0]], [[2, 4]], [[6, 8]]]
    assert [tags["rows"] for _, tags in results] == [1, 2, 2]


def test_class_attributes_win_over_the_settings():
    class Own(Gated):
        max_batch_size = 3
        max_batch_time_ms = 7

    assert dataplane(Own(), max_batch_size=50).batcher.max_size == 3
    assert dataplane(Own(), max_batch_size=50).batcher.max_wait_s == pytest.approx(0.007)

    class Off(Gated):
        max_batch_size = 0

    assert dataplane(Off(), max_batch_size=50).batcher is None


def test_batching_is_off_by_default_and_for_raw_predict():
    assert Dataplane(Component(Gated()), Settings()).batcher is None

    class Raw:
        def predict_raw(self, request):
            return request

    dp = dataplane(Raw())
    assert dp.batcher is None
    assert dp.predict({"strData": "x"}, seldon_json) == {"strData": "x"}


# -- a lone request answers exactly as without batching -------------------------------------

from hypothesis import given  # noqa: E402

from tests.unit.test_codecs_fuzz import FUZZ, Identity, v1_messages  # noqa: E402

UNBATCHED = Dataplane(Component(Identity()), Settings())
BATCHED = Dataplane(Component(Identity()), Settings(max_batch_size=16))


def outcome(dp: Dataplane, message) -> object:
    try:
        return seldon_json.dumps(dp.predict(message, seldon_json))
    except SeldonMicroserviceException as exc:
        return (exc.status_code, exc.reason, exc.message)


@FUZZ
@given(v1_messages)
def test_a_lone_request_is_answered_as_without_batching(message):
    assert BATCHED.batcher is not None
    assert outcome(BATCHED, message) == outcome(UNBATCHED, message)
