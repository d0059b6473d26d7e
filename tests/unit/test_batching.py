"""seldon_wrapper/batching.py: stacking keys, stack/split round trips, and the Batcher's grouping."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_wrapper.batching import ALONE, BatchContractError, Batcher, split, stack, stack_key


def test_keys_match_on_trailing_shape_dtype_and_extras():
    a = np.zeros((1, 3))
    assert stack_key(a, "NDARRAY", ("x",)) == stack_key(np.ones((5, 3)), "NDARRAY", ("x",))
    assert stack_key(a) != stack_key(np.zeros((1, 4)))
    assert stack_key(a) != stack_key(a.astype(np.float32))
    assert stack_key(a, "NDARRAY") != stack_key(a, "TENSOR")
    assert stack_key(a, ("x",)) != stack_key(a, ("y",))


@pytest.mark.parametrize("value", [np.array(1.0), np.array([["a", 1]], dtype=object), [[1, 2]], "text", None])
def test_what_cannot_be_stacked_runs_alone(value):
    assert stack_key(value) is ALONE


def test_split_gives_each_request_its_rows():
    parts = split(np.arange(12).reshape(6, 2), [1, 3, 2])
    assert [p.tolist() for p in parts] == [[[0, 1]], [[2, 3], [4, 5], [6, 7]], [[8, 9], [10, 11]]]
    assert split([[1], [2], [3]], [2, 1]) == [[[1], [2]], [[3]]]


def test_a_lone_request_gets_the_answer_as_it_is():
    assert split("anything", [4]) == ["anything"]


@pytest.mark.parametrize("result", [np.zeros((5, 2)), np.array(3.0), "text", [[1]] * 7])
def test_a_wrong_row_count_names_the_contract(result):
    with pytest.raises(BatchContractError, match="one row per input row: 2 requests sent 6 rows"):
        split(result, [2, 4])


shapes = st.tuples(st.integers(0, 3), st.integers(1, 3))


@settings(max_examples=100, deadline=None)
@given(
    trailing=st.lists(st.integers(1, 3), max_size=2),
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=6),
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
)
def test_split_undoes_stack(trailing, sizes, dtype):
    rng = np.random.default_rng(len(sizes))
    arrays = [(rng.random((n, *trailing)) * 10).astype(dtype) for n in sizes]
    assert len({stack_key(a) for a in arrays}) == 1
    parts = split(stack(arrays), sizes)
    assert len(parts) == len(arrays)
    for part, original in zip(parts, arrays, strict=True):
        assert part.dtype == original.dtype
        np.testing.assert_array_equal(part, original)


class Model:
    """A run function that records its batches; ``gate`` holds a call until released."""

    def __init__(self, fail: Exception | None = None, answers: int | None = None) -> None:
        self.batches: list[list] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail = fail
        self.answers = answers

    def __call__(self, payloads: list) -> list:
        self.batches.append(list(payloads))
        self.entered.set()
        self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        return [f"answer:{p}" for p in payloads][: self.answers]


def start(batcher: Batcher, payload, key, outcomes: dict) -> threading.Thread:
    def submit() -> None:
        try:
            outcomes[payload] = batcher.submit(payload, key)
        except Exception as exc:  # recorded for the test to look at
            outcomes[payload] = exc

    thread = threading.Thread(target=submit)
    thread.start()
    return thread


def queued(batcher: Batcher, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(batcher._queue) < count:
        assert time.monotonic() < deadline, "submissions did not queue"
        time.sleep(0.001)


def run_while_busy(batcher: Batcher, model: Model, later: list[tuple]) -> dict:
    """Hold a first call in the model, queue ``later`` (payload, key) pairs, then let all run."""
    outcomes: dict = {}
    model.gate.clear()
    threads = [start(batcher, "first", ("k",), outcomes)]
    assert model.entered.wait(10)
    for index, (payload, key) in enumerate(later, 1):
        threads.append(start(batcher, payload, key, outcomes))
        queued(batcher, index)
    model.gate.set()
    for thread in threads:
        thread.join(10)
    return outcomes


def test_requests_queued_behind_a_call_become_one_batch_in_order():
    model = Model()
    batcher = Batcher(model, max_size=8, max_wait_s=0)
    later = [("b", ("k",)), ("c", ("k",)), ("other", ("j",)), ("d", ("k",)), ("alone", ALONE)]
    outcomes = run_while_busy(batcher, model, later)
    assert model.batches == [["first"], ["b", "c", "d"], ["other"], ["alone"]]
    assert outcomes == {p: f"answer:{p}" for p in ("first", "b", "c", "d", "other", "alone")}


def test_batches_are_cut_at_max_size():
    model = Model()
    batcher = Batcher(model, max_size=2, max_wait_s=0)
    outcomes = run_while_busy(batcher, model, [(name, ("k",)) for name in "abcde"])
    assert model.batches == [["first"], ["a", "b"], ["c", "d"], ["e"]]
    assert len(outcomes) == 6


def test_a_failing_call_fails_every_member_and_the_next_batch_still_runs():
    error = ValueError("model broke")
    model = Model(fail=error)
    batcher = Batcher(model, max_size=8, max_wait_s=0)
    outcomes = run_while_busy(batcher, model, [("a", ("k",)), ("b", ("k",))])
    assert outcomes == {"first": error, "a": error, "b": error}
    model.fail = None
    assert batcher.submit("again", ("k",)) == "answer:again"


def test_too_few_answers_reach_every_member_as_a_contract_error():
    model = Model(answers=1)
    batcher = Batcher(model, max_size=8, max_wait_s=0)
    outcomes = run_while_busy(batcher, model, [("a", ("k",)), ("b", ("k",))])
    assert outcomes["first"] == "answer:first"
    assert isinstance(outcomes["a"], BatchContractError) and outcomes["a"] is outcomes["b"]


def test_after_a_batch_with_company_the_leader_waits_for_more():
    model = Model()
    sizes: list[int] = []
    batcher = Batcher(model, max_size=2, max_wait_s=5.0, observe=lambda size, waits: sizes.append(size))
    run_while_busy(batcher, model, [("a", ("k",)), ("b", ("k",))])
    assert model.batches[-1] == ["a", "b"]
    outcomes: dict = {}
    first = start(batcher, "c", ("k",), outcomes)
    queued(batcher, 1)
    time.sleep(0.05)  # the leader is waiting for company: the batch is not full
    assert model.batches[-1] == ["a", "b"]
    second = start(batcher, "d", ("k",), outcomes)
    first.join(10)
    second.join(10)
    assert model.batches[-1] == ["c", "d"]
    assert sizes == [1, 2, 2]


def test_a_lone_caller_is_never_held_back():
    model = Model()
    waits: list[float] = []
    batcher = Batcher(model, max_size=64, max_wait_s=30.0, observe=lambda size, w: waits.extend(w))
    for index in range(20):
        assert batcher.submit(index, ("k",)) == f"answer:{index}"
    assert model.batches == [[index] for index in range(20)]
    assert max(waits) < 1.0  # never the 30 s a wait for company would take


def test_many_threads_all_get_their_own_answer():
    def run(payloads: list) -> list:
        return list(split(stack([np.array([[p]]) for p in payloads]) * 2, [1] * len(payloads)))

    sizes: list[int] = []
    batcher = Batcher(run, max_size=16, max_wait_s=0.002, observe=lambda size, waits: sizes.append(size))
    outcomes: dict = {}
    threads = [start(batcher, n, ("k",), outcomes) for n in range(200)]
    for thread in threads:
        thread.join(10)
    assert {n: outcomes[n].tolist() for n in range(200)} == {n: [[2 * n]] for n in range(200)}
    assert sum(sizes) == 200 and max(sizes) <= 16
