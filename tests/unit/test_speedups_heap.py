"""A worker's heap: kept while large requests come, given back once they stop (speedups/heap.py)."""

from __future__ import annotations

import time

import pytest

from seldon_wrapper.speedups import heap
from seldon_wrapper.speedups.heap import WorkerHeap


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(heap, "IDLE_S", 0.05)


def _wait_for(condition, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_quiet_after_large_requests_releases_once(quick):
    released: list[float] = []
    keeper = WorkerHeap(on_quiet=lambda: released.append(time.monotonic()))
    for _ in range(3):
        keeper.note({"CONTENT_LENGTH": str(heap.LARGE_REQUEST_BYTES)})
    assert _wait_for(lambda: len(released) == 1)
    time.sleep(0.2)
    assert len(released) == 1  # nothing new came: nothing more to give back
    keeper.note({"CONTENT_LENGTH": str(10 * heap.LARGE_REQUEST_BYTES)})
    assert _wait_for(lambda: len(released) == 2)


def test_small_or_unsized_requests_do_not_start_the_keeper(quick):
    released: list[int] = []
    keeper = WorkerHeap(on_quiet=lambda: released.append(1))
    for environ in ({"CONTENT_LENGTH": "100"}, {}, {"CONTENT_LENGTH": "lots"}):
        keeper.note(environ)
    time.sleep(0.2)
    assert released == [] and keeper._thread is None


def test_large_requests_keep_it_from_releasing_while_they_come(quick):
    released: list[int] = []
    keeper = WorkerHeap(on_quiet=lambda: released.append(1))
    until = time.monotonic() + 0.3
    while time.monotonic() < until:  # one large request every 10 ms, far under IDLE_S
        keeper.note({"CONTENT_LENGTH": str(heap.LARGE_REQUEST_BYTES)})
        time.sleep(0.01)
    assert released == []
    assert _wait_for(lambda: released == [1])


@pytest.mark.parametrize("name", ["MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"])
def test_a_users_own_malloc_tuning_is_left_alone(monkeypatch, name):
    monkeypatch.setenv(name, "1")
    assert WorkerHeap().hold() is False


def test_without_glibc_nothing_is_tuned_or_trimmed(monkeypatch, quick):
    def no_glibc(name):
        raise OSError(name)

    monkeypatch.setattr(heap.ctypes, "CDLL", no_glibc)
    keeper = WorkerHeap(on_quiet=lambda: None)
    assert keeper.hold() is False
    keeper.note({"CONTENT_LENGTH": str(heap.LARGE_REQUEST_BYTES)})
    assert keeper._thread is None


def test_quiet_empties_the_interpreters_free_lists(quick):
    import sys

    after: list[int] = []
    keeper = WorkerHeap(on_quiet=lambda: after.append(sys.getallocatedblocks()))
    # Small tuples freed by a request stay allocated on the interpreter's free list (up to 2000
    # of each size), holding the memory pages they sit on; only a full collection empties it.
    tuples = [tuple(range(i, i + 3)) for i in range(5000)]
    del tuples
    before = sys.getallocatedblocks()
    keeper.note({"CONTENT_LENGTH": str(heap.LARGE_REQUEST_BYTES)})
    assert _wait_for(lambda: after)
    assert before - after[0] > 1000


class _Cycle:
    def __init__(self) -> None:
        self.me = self
        self.payload = bytearray(heap.LARGE_REQUEST_BYTES)


def test_a_requests_garbage_cycles_are_collected_once_quiet(quick):
    import gc
    import weakref

    gc.disable()  # as in a worker that allocates nothing more once idle: no automatic collection
    try:
        cycle = _Cycle()
        alive = weakref.ref(cycle)
        del cycle
        keeper = WorkerHeap()
        keeper.note({"CONTENT_LENGTH": str(heap.LARGE_REQUEST_BYTES)})
        assert alive() is not None
        assert _wait_for(lambda: alive() is None)
    finally:
        gc.enable()
