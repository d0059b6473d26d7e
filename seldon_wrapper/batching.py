"""Adaptive batching: concurrent ``predict`` requests answered by one vectorised call.

Protocol-neutral: a front door's threads ``submit`` decoded requests and block for their own
answer; one of them (the leader) calls the model for the whole group, the others wait. The
model is called by one thread at a time, so a batch is what gathered while the previous call
ran, up to ``max_size``. A request never waits for company when the model is idle and the
previous call was alone (one caller pays nothing); after a call that had company, the leader
waits up to ``max_wait_s`` from the oldest queued request for the batch to fill, because
closed-loop callers answered together come back together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Stacking key of a request that must run alone.
ALONE = None


class BatchContractError(Exception):
    """The model's answer to a batch cannot be split back into one answer per request."""


def stack_key(features: Any, *extra: Any) -> tuple | None:
    """Requests with equal keys can be stacked along the first axis; ``ALONE`` when never.

    The key holds the trailing shape and dtype, and whatever else the caller says must match
    (payload kind, names, the meta the model sees).
    """
    if not isinstance(features, np.ndarray) or features.ndim < 1 or features.dtype.hasobject:
        return ALONE
    return (features.shape[1:], features.dtype.str, *extra)


def stack(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """One array of every request's rows, in order (a lone request's array as it is)."""
    if len(arrays) == 1:
        return arrays[0]
    return np.concatenate(arrays, axis=0)


def row_count(result: Any) -> int | None:
    """Rows of a model's answer; None when it has no first axis to split."""
    if isinstance(result, np.ndarray):
        return result.shape[0] if result.ndim >= 1 else None
    if isinstance(result, list | tuple):
        return len(result)
    return None


def split(result: Any, sizes: Sequence[int]) -> list[Any]:
    """The model's answer cut into each request's rows; BatchContractError when it cannot be."""
    if len(sizes) == 1:
        return [result]
    rows = row_count(result)
    expected = sum(sizes)
    if rows != expected:
        got = "an answer without rows" if rows is None else f"{rows} rows"
        raise BatchContractError(
            f"batched predict must return one row per input row: {len(sizes)} requests sent "
            f"{expected} rows together and predict returned {got}"
        )
    parts = []
    start = 0
    for size in sizes:
        parts.append(result[start : start + size])
        start += size
    return parts


@dataclass(eq=False)
class Pending:
    """One submitted request: its stacking key, payload, and (once run) its answer or error."""

    key: tuple | None
    payload: Any
    arrived: float
    wake: threading.Condition
    done: bool = False
    result: Any = None
    error: BaseException | None = None


Runner = Callable[[list[Any]], list[Any]]
#: Told of every batch run: its size and how long each member waited before the call began.
Observer = Callable[[int, list[float]], None]


class Batcher:
    """Groups concurrent submissions with equal keys into one call of ``run``.

    ``run(payloads)`` returns one result per payload, in order, or raises: then every member
    of that batch gets the exception. Each waiting thread has its own condition (on one
    shared lock), so finishing a batch wakes its members only, and an arrival wakes only a
    leader waiting for company.
    """

    def __init__(
        self,
        run: Runner,
        max_size: int,
        max_wait_s: float,
        clock: Callable[[], float] = time.monotonic,
        observe: Observer | None = None,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._run = run
        self.max_size = max_size
        self.max_wait_s = max(0.0, max_wait_s)
        self._clock = clock
        self._observe = observe
        self._lock = threading.Lock()
        self._arrival = threading.Condition(self._lock)
        self._queue: list[Pending] = []
        self._busy = False
        self._held = False
        self._driven = False  # a front door gathers groups itself (hold/release): no waiting here
        self._last_size = 1

    @property
    def last_size(self) -> int:
        """Size of the latest batch: above 1, callers are arriving together."""
        return self._last_size

    def submit(self, payload: Any, key: tuple | None) -> Any:
        """Run ``payload`` in some batch; returns its result or raises its batch's error."""
        with self._lock:
            item = Pending(key, payload, self._clock(), threading.Condition(self._lock))
            self._queue.append(item)
            self._arrival.notify_all()
            while not item.done and (self._busy or self._held):
                item.wake.wait()
            if not item.done:
                self._lead(item)
        if item.error is not None:
            raise item.error
        return item.result

    # -- a front door that knows a group is coming (the REST event loop) ------------------

    def hold(self) -> None:
        """Queue submissions without running them until ``release``: the caller knows more
        requests of the same group are on their way."""
        with self._lock:
            self._held = True
            self._driven = True

    def release(self) -> None:
        with self._lock:
            self._held = False
            if self._queue and not self._busy:
                self._queue[0].wake.notify()

    def wait_queued(self, enough: Callable[[int], bool], timeout: float) -> bool:
        """Until ``enough(number queued)`` holds (re-checked on each arrival and ``poke``)."""
        with self._lock:
            return self._arrival.wait_for(lambda: enough(len(self._queue)), timeout)

    def poke(self) -> None:
        """Make ``wait_queued`` look again (a member of the group finished without queueing)."""
        with self._lock:
            self._arrival.notify_all()

    # -- the leader's side (called holding the lock) ---------------------------------------

    def _lead(self, mine: Pending) -> None:
        """Run batches, oldest request first, until ``mine`` is answered; then hand over."""
        self._busy = True
        try:
            while not mine.done:
                batch = self._take()
                self._lock.release()
                try:
                    results, error = self._call(batch)
                finally:
                    self._lock.acquire()
                for index, item in enumerate(batch):
                    item.done = True
                    if error is None:
                        item.result = results[index]
                    else:
                        item.error = error
                    if item is not mine:
                        item.wake.notify()
        finally:
            self._busy = False
            if self._queue and not self._held:
                self._queue[0].wake.notify()

    def _compatible(self, head: Pending) -> list[Pending]:
        if head.key is ALONE:
            return [head]
        return [p for p in self._queue if p.key == head.key][: self.max_size]

    def _take(self) -> list[Pending]:
        """The next batch: the oldest request and the queued ones that stack with it."""
        head = self._queue[0]
        if head.key is not ALONE and not self._driven and self._last_size > 1 and self.max_wait_s > 0:
            deadline = head.arrived + self.max_wait_s
            while len(self._compatible(head)) < self.max_size:
                left = deadline - self._clock()
                if left <= 0:
                    break
                self._arrival.wait(left)
        batch = self._compatible(head)
        for item in batch:
            self._queue.remove(item)
        self._last_size = len(batch)
        return batch

    def _call(self, batch: list[Pending]) -> tuple[list[Any], BaseException | None]:
        """``run`` over the batch without the lock; (results, None) or ([], the error)."""
        started = self._clock()
        if self._observe is not None:
            self._observe(len(batch), [started - item.arrived for item in batch])
        try:
            results = self._run([item.payload for item in batch])
            if len(results) != len(batch):
                raise BatchContractError(f"{len(batch)} requests got {len(results)} answers")
            return results, None
        except BaseException as exc:  # every member answers with the batch's failure
            return [], exc


def batch_policy(component: Any, settings: Any) -> tuple[int, float]:
    """(max batch size, max wait in seconds): the class's ``max_batch_size`` and
    ``max_batch_time_ms`` attributes win over ``--max-batch-size``/``--max-batch-time-ms``."""
    size = component.max_batch_size
    wait_ms = component.max_batch_time_ms
    size = settings.max_batch_size if size is None else int(size)
    wait_ms = settings.max_batch_time_ms if wait_ms is None else float(wait_ms)
    return size, wait_ms / 1000.0
