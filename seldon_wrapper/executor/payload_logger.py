"""The request (payload) logger: copies of what nodes receive and answer, as CloudEvents (spec 7).

A node whose graph entry has ``logger: {mode, url?}`` has its input and/or output sent to a
logging sink (Seldon's request logger, a Knative broker, anything that accepts CloudEvents 1.0 in
binary mode). The inference request must never notice: ``log()`` only puts the event on a bounded
in-memory queue, waiting at most ``write_timeout_ms`` for room and dropping the event (one log
line, ``on_drop()``) when there is none; a few worker threads do the HTTP posts, and a failed post
is one WARNING line (URL and reason, never the payload, which may hold personal data).

The workers start on the first ``log()``, not at construction, so the logger can be built in a
parent process that later forks (a child restarts its own workers and queue).
"""

from __future__ import annotations

import gzip
import logging
import os
import queue
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import urllib3

REQUEST = "request"
RESPONSE = "response"
FEEDBACK = "feedback"

#: CloudEvents ``type`` per event kind (the original's names, which sinks filter on).
CE_TYPES = {
    REQUEST: "io.seldon.serving.inference.request",
    RESPONSE: "io.seldon.serving.inference.response",
    FEEDBACK: "io.seldon.serving.feedback",
}

#: Which event kinds each ``logger.mode`` asks for (feedback is a response-side event).
MODE_KINDS = {
    "all": frozenset({REQUEST, RESPONSE, FEEDBACK}),
    "request": frozenset({REQUEST}),
    "response": frozenset({RESPONSE, FEEDBACK}),
}

SKIP_LOGGING_HEADER = "seldon-skip-logging"
SKIP_LOGGING_VALUES = frozenset({"true", "on", "1"})

log = logging.getLogger(__name__)

#: Guards starting the workers; recreated in a forked child, where a copy could be held forever.
_start_lock = threading.Lock()


def _new_start_lock() -> None:
    global _start_lock
    _start_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_start_lock)


def skip_logging(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> bool:
    """True when the client sent ``Seldon-Skip-Logging: true|on|1``: it asked that this request's
    payloads stay out of the logs. The first such header counts (as Go's ``Header.Get``)."""
    if not headers:
        return False
    pairs = headers.items() if hasattr(headers, "items") else headers
    for name, value in pairs:
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if str(name).lower() != SKIP_LOGGING_HEADER:
            continue
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return str(value).strip().lower() in SKIP_LOGGING_VALUES
    return False


def wants(node: Any, kind: str) -> bool:
    """Whether ``node``'s logger mode asks for events of this kind (request events for mode
    request/all; response and feedback events for mode response/all); never without a logger."""
    logger = getattr(node, "logger", None)
    if logger is None:
        return False
    return kind in MODE_KINDS.get(logger.get("mode"), frozenset())


@dataclass(frozen=True)
class _Event:
    """One event as queued: everything is fixed at ``log()`` time (id, time, url); the body is
    unzipped by the worker, off the request's path."""

    url: str
    headers: dict[str, str]
    data: bytes
    gzipped: bool


_STOP = object()


class PayloadLogger:
    """Sends nodes' payloads to the logging sink, asynchronously, never failing the request."""

    def __init__(
        self,
        *,
        workers: int,
        buffer_size: int,
        write_timeout_ms: int,
        source: str,
        deployment: str,
        namespace: str,
        predictor: str,
        protocol: str,
        default_endpoint: str,
        on_drop: Callable[[], None] = lambda: None,
        timeout_s: float = 60.0,
    ) -> None:
        self.workers = max(1, int(workers))
        self.buffer_size = max(1, int(buffer_size))
        self.write_timeout_s = max(0.0, write_timeout_ms / 1000.0)
        self.default_endpoint = default_endpoint
        self.timeout_s = timeout_s
        self._on_drop = on_drop
        self._source = source
        self._deployment = deployment
        self._namespace = namespace
        self._predictor = predictor
        self._protocol = protocol
        self._pid: int | None = None  # the process whose workers are running, None before start
        self._queue: queue.Queue[Any] | None = None
        self._pool: urllib3.PoolManager | None = None
        self._threads: list[threading.Thread] = []
        self._closed = False

    # -- request path ----------------------------------------------------------------------

    def log(
        self,
        node: Any,
        kind: str,
        data: bytes,
        content_type: str | None,
        content_encoding: str | None,
        puid: str,
    ) -> None:
        """Queue one event for the workers. Never raises; waits at most ``write_timeout_ms`` for
        room, then drops the event (``on_drop()`` and one ERROR line naming node and puid)."""
        try:
            if self._closed:
                self._dropped(node, kind, puid, "the payload logger is closed")
                return
            if self._pid != os.getpid():
                self._start()
            event = self._event(node, kind, data, content_type, content_encoding, puid)
            assert self._queue is not None
            try:
                if self.write_timeout_s > 0:
                    self._queue.put(event, timeout=self.write_timeout_s)
                else:
                    self._queue.put_nowait(event)
            except queue.Full:
                self._dropped(node, kind, puid, f"its queue stayed full ({self.buffer_size} events)")
        except Exception as exc:  # logging must never fail the request
            log.error("Payload logger: could not queue the %s event of node %s: %s", kind, _name(node), exc)

    def _event(
        self,
        node: Any,
        kind: str,
        data: bytes,
        content_type: str | None,
        content_encoding: str | None,
        puid: str,
    ) -> _Event:
        headers = {
            "Ce-Specversion": "1.0",
            "Ce-Id": str(uuid.uuid4()),
            "Ce-Type": CE_TYPES[kind],
            "Ce-Source": self._source,
            "Ce-Time": _now_rfc3339(),
            "Ce-Modelid": _name(node),
            "Ce-Requestid": puid or "",
            "Ce-Inferenceservicename": self._deployment,
            "Ce-Namespace": self._namespace,
            "Ce-Endpoint": self._predictor,
            "Ce-Protocol": self._protocol,
        }
        if content_type:
            headers["Content-Type"] = content_type
        logger = getattr(node, "logger", None) or {}
        url = logger.get("url") or self.default_endpoint
        gzipped = (content_encoding or "").strip().lower() == "gzip"
        # bytes() snapshots a bytearray/memoryview the caller may reuse after we return.
        return _Event(url, headers, bytes(data), gzipped)

    def _dropped(self, node: Any, kind: str, puid: str, why: str) -> None:
        try:
            self._on_drop()
        except Exception as exc:
            log.error("Payload logger: on_drop failed: %s", exc)
        log.error(
            "Payload logger dropped the %s event of node %s (puid %s): %s", kind, _name(node), puid, why
        )

    # -- workers ---------------------------------------------------------------------------

    def _start(self) -> None:
        """Start the queue, pool and workers of this process (first log(), or first after a fork:
        a child inherits the parent's objects but none of its threads)."""
        with _start_lock:
            if self._pid == os.getpid():
                return
            self._queue = queue.Queue(self.buffer_size)
            self._pool = urllib3.PoolManager(
                num_pools=32,
                maxsize=self.workers,
                retries=False,
                timeout=urllib3.Timeout(total=self.timeout_s),
            )
            self._threads = [
                threading.Thread(target=self._work, name=f"payload-logger-{i}", daemon=True)
                for i in range(self.workers)
            ]
            for thread in self._threads:
                thread.start()
            self._pid = os.getpid()

    def _work(self) -> None:
        work = self._queue
        assert work is not None
        while True:
            event = work.get()
            try:
                if event is _STOP:
                    return
                self._send(event)
            except Exception as exc:  # a worker must outlive any one event
                log.warning(
                    "Payload logger: could not send an event to %s: %s", getattr(event, "url", "?"), exc
                )
            finally:
                work.task_done()

    def _send(self, event: _Event) -> None:
        """POST one event; any failure is one WARNING line with the URL and the reason."""
        body = _gunzip(event.data) if event.gzipped else event.data
        assert self._pool is not None
        try:
            response = self._pool.request(
                "POST", event.url, body=body, headers=event.headers, retries=False, redirect=False
            )
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            log.warning("Payload logger: POST %s failed: %s", event.url, _reason(exc))
            return
        if not 200 <= response.status < 300:
            log.warning("Payload logger: POST %s failed: HTTP status %d", event.url, response.status)

    # -- shutdown --------------------------------------------------------------------------

    def close(self, timeout_s: float = 5.0) -> None:
        """Send what is queued (for up to ``timeout_s``), then stop the workers. Events still
        queued at the deadline are dropped (one line saying how many); later log() calls drop."""
        self._closed = True
        if self._pid != os.getpid() or self._queue is None:
            return  # never started in this process: nothing queued here
        deadline = time.monotonic() + max(0.0, timeout_s)
        work = self._queue
        stopped = 0
        for _ in self._threads:
            try:
                work.put(_STOP, timeout=max(0.001, deadline - time.monotonic()))
                stopped += 1
            except queue.Full:
                break
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self._threads):
            self._abandon(work, stopped)
            return
        if self._pool is not None:
            self._pool.clear()

    def _abandon(self, work: queue.Queue[Any], stopped: int) -> None:
        """Out of time: drop what is still queued so the workers stop after their current post."""
        lost = 0
        while True:
            try:
                event = work.get_nowait()
            except queue.Empty:
                break
            work.task_done()
            if event is not _STOP:
                lost += 1
        for _ in self._threads:
            try:
                work.put_nowait(_STOP)
            except queue.Full:
                break
        if lost:
            for _ in range(lost):
                try:
                    self._on_drop()
                except Exception:
                    break
            log.error("Payload logger closed before sending %d queued event(s); they are dropped", lost)


def _name(node: Any) -> str:
    return str(getattr(node, "name", node))


def _now_rfc3339() -> str:
    """UTC, microseconds, ``Z``: RFC 3339 as CloudEvents sinks parse it."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _gunzip(data: bytes) -> bytes:
    """The message as the node saw it; bytes that only claim to be gzip are sent as they are."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return data


def _reason(exc: BaseException) -> str:
    """Why a post failed, on one line (urllib3's messages name host, port and the OS error)."""
    return " ".join(str(exc).split()) or type(exc).__name__
