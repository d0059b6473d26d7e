"""Batched predictions on the one-thread REST worker: requests gathered by the event loop.

The keep-alive worker's loop sees every request that has fully arrived, on every connection,
at once; when adaptive batching is on (docs/batching.md), the predictions among them form a
group. A group of one is answered on the loop's own thread, as without batching. A larger
group's requests run on helper threads that each go through the usual WSGI path, while the
dataplane's Batcher is held until every member has queued (or finished without reaching the
model), so the whole group meets the model as one call. The loop waits for the group, so the
worker keeps its contract: the model never runs concurrently with itself in a process.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent import futures
from typing import Any

from seldon_wrapper.batching import Batcher
from seldon_wrapper.speedups.http_reader import Request

#: Longest wait for a group's members to reach the batcher (they only decode on the way).
GATHER_TIMEOUT_S = 5.0

V1_PATHS = frozenset({"/api/v1.0/predictions", "/api/v0.1/predictions", "/predict"})
V2_INFER = re.compile(r"^/v2/models/[^/]+(?:/versions/[^/]+)?/infer$")


def predictions(v2_batched: bool) -> Callable[[Request], bool]:
    """Which requests go to the batcher: v1 predictions, and V2 inference when it calls predict."""

    def takes(request: Request) -> bool:
        if request.method != "POST":
            return False
        path = request.path
        if path in V1_PATHS:
            return True
        return v2_batched and path.startswith("/v2/") and V2_INFER.match(path) is not None

    return takes


class BatchGroups:
    """Runs a group of gathered requests through one Batcher (see the module docstring)."""

    def __init__(self, batcher: Batcher, takes: Callable[[Request], bool]) -> None:
        self.batcher = batcher
        self.takes = takes
        self.max_size = batcher.max_size
        self.max_wait_s = batcher.max_wait_s
        self._pool: futures.ThreadPoolExecutor | None = None

    def wants_company(self, gathered: int) -> bool:
        """Whether to wait for more: only when the previous call had company (callers arrive
        together) and this group is not full; a lone caller is never held back."""
        return self.batcher.last_size > 1 and gathered < self.max_size and self.max_wait_s > 0

    def run(self, group: list[tuple[Request, Any]], handle: Callable[[Request, Any], bool]) -> list[bool]:
        """``handle(request, conn)`` for each member; their results, in order."""
        if len(group) == 1:
            return [handle(*group[0])]
        if self._pool is None:  # after the fork: threads do not survive one
            self._pool = futures.ThreadPoolExecutor(self.max_size, thread_name_prefix="batch-group")
        batcher = self.batcher
        batcher.hold()
        try:
            running = [self._pool.submit(handle, request, conn) for request, conn in group]
            for future in running:
                future.add_done_callback(lambda _done: batcher.poke())
            batcher.wait_queued(
                lambda queued: queued + sum(future.done() for future in running) >= len(running),
                GATHER_TIMEOUT_S,
            )
        finally:
            batcher.release()
        return [future.result() for future in running]
