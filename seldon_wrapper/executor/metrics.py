"""The executor's Prometheus metrics, named and labelled as the original's (spec section 8), so
dashboards written for Seldon Core v1 graphs keep working.

Each request the executor serves is timed under ``seldon_api_executor_server_requests_seconds``
and each node call that got an answer under ``seldon_api_executor_client_requests_seconds``;
both also as ``..._summary`` (count and sum: prometheus-client summaries have no quantiles).
The executor's processes (REST workers, the gRPC server) each write their own files in the
multiprocess directory the command prepared, and a scrape on any of them sums them all.

Timings are tallied in memory and written to those files once a second (and before a scrape or
exit): writing each one as it came cost a tenth of the executor's CPU on a small request (four
timings, eight file writes). A scrape may so miss up to the last second of another process.
"""

from __future__ import annotations

import bisect
import threading
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Summary, generate_latest, multiprocess

from seldon_wrapper.executor.graph import Predictor
from seldon_wrapper.metrics import multiprocess_mode

SERVER_SECONDS = "seldon_api_executor_server_requests_seconds"
CLIENT_SECONDS = "seldon_api_executor_client_requests_seconds"
LOGGER_DROPPED = "seldon_api_executor_logger_dropped_total"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, float("inf"))
SERVER_LABELS = ("deployment_name", "predictor_name", "predictor_version", "service", "method", "code")
CLIENT_LABELS = (
    "deployment_name",
    "predictor_name",
    "predictor_version",
    "service",
    "model_name",
    "model_image",
    "model_version",
    "method",
    "code",
)


#: How often tallied timings are written (seconds).
FLUSH_S = 1.0


def _pid() -> int:
    import os

    return os.getpid()


def image_labels(image: str) -> tuple[str, str]:
    """(model_image, model_version) as the original split them: on ``:``, the version only when
    there are exactly two parts (``reg:5000/img:1`` gives ``reg`` and no version)."""
    parts = image.split(":")
    if len(parts) == 2:
        return parts[0], parts[1]
    return parts[0], ""


class ExecutorMetrics:
    """Records server and node-call timings; ``exposition()`` answers a scrape."""

    def __init__(self, deployment: str, predictor: Predictor) -> None:
        self.base = (deployment, predictor.name, predictor.version or "")
        self.images = {name: image_labels(c.image) for name, c in predictor.containers.items()}
        self._server = (
            Histogram(SERVER_SECONDS, "", SERVER_LABELS, registry=None, buckets=BUCKETS),
            Summary(SERVER_SECONDS + "_summary", "", SERVER_LABELS, registry=None),
        )
        self._client = (
            Histogram(CLIENT_SECONDS, "", CLIENT_LABELS, registry=None, buckets=BUCKETS),
            Summary(CLIENT_SECONDS + "_summary", "", CLIENT_LABELS, registry=None),
        )
        self._dropped = Counter(LOGGER_DROPPED, "", ("deployment_name", "predictor_name"), registry=None)
        self._children: dict[tuple, tuple[Any, Any]] = {}
        self._lock = threading.Lock()
        #: labels -> [count per bucket..., count, sum] not yet written
        self._tally: dict[tuple, list[float]] = {}
        self._flusher: threading.Thread | None = None
        self._flusher_pid = 0

    def _observe(self, pair: tuple[Any, Any], labels: tuple[str, ...], seconds: float) -> None:
        bucket = bisect.bisect_left(BUCKETS, seconds)
        with self._lock:
            tally = self._tally.get(labels)
            if tally is None:
                if labels not in self._children:
                    self._children[labels] = (pair[0].labels(*labels[1:]), pair[1].labels(*labels[1:]))
                tally = self._tally[labels] = [0.0] * (len(BUCKETS) + 2)
            tally[min(bucket, len(BUCKETS) - 1)] += 1
            tally[-2] += 1
            tally[-1] += seconds
        if self._flusher_pid != _pid():  # first timing in this process (each fork has its own)
            self._start_flusher()

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher_pid == _pid():
                return
            self._flusher_pid = _pid()
            self._flusher = threading.Thread(target=self._flush_every_second, name="metrics", daemon=True)
            self._flusher.start()

    def _flush_every_second(self) -> None:
        stop = threading.Event()
        while not stop.wait(FLUSH_S):
            self.flush()

    def flush(self) -> None:
        """Write the tallied timings to the metrics (and so to this process's files)."""
        with self._lock:
            tallies, self._tally = self._tally, {}
        for labels, tally in tallies.items():
            histogram, summary = self._children[labels]
            # The values behind observe(): a bucket's count, the sum; the summary's count, sum.
            for index, count in enumerate(tally[: len(BUCKETS)]):
                if count:
                    histogram._buckets[index].inc(count)
            histogram._sum.inc(tally[-1])
            summary._count.inc(tally[-2])
            summary._sum.inc(tally[-1])

    def server(self, service: str, method: str, code: str, seconds: float) -> None:
        self._observe(self._server, ("s", *self.base, service, method, code), seconds)

    def client(self, model_name: str, service: str, method: str, code: str, seconds: float) -> None:
        image, version = self.images.get(model_name, ("", ""))
        labels = ("c", *self.base, service, model_name, image, version, method, code)
        self._observe(self._client, labels, seconds)

    def dropped(self) -> None:
        """One payload-logger event dropped because the logger's queue stayed full."""
        self._dropped.labels(*self.base[:2]).inc()

    def exposition(self) -> bytes:
        self.flush()
        registry = CollectorRegistry(auto_describe=False)
        if multiprocess_mode():
            multiprocess.MultiProcessCollector(registry)
        else:
            for metric in (*self._server, *self._client, self._dropped):
                registry.register(metric)
        return generate_latest(registry)
