"""The speed machinery, all of it, behind one switch (``--speedups`` / ``SELDON_SPEEDUPS``).

None of it changes an answer; each part only makes the same answer cheaper:

* ``fast_entry``: JSON predictions (v1 and V2 infer) answered straight from WSGI, skipping
  Flask's request cycle, with the Flask route's own handler;
* ``ndarrays``: large v1 ``ndarray`` bodies parsed straight into numpy, through a pool of
  simdjson parsers;
* ``keepalive``: the one-thread Gunicorn worker that keeps HTTP/1.1 connections open and
  reads requests without blocking (``http_reader``: deadlines and limits while bytes arrive),
  and ``accept_board``, which spreads new connections over several such workers;
* ``heap``: a worker keeps the memory of large requests while they come and gives it back
  when quiet.

``install`` is the one hook serving calls. Switched off, REST runs as the original did:
Flask for every request and Gunicorn's own sync (or gthread) worker, which, like the
original's, waits on a slow client (docs/reliability.md).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from seldon_wrapper.dataplane import PREDICT, Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.rest.limits import refused_answer
from seldon_wrapper.speedups.accept_board import AcceptBoard
from seldon_wrapper.speedups.batch_groups import BatchGroups, predictions
from seldon_wrapper.speedups.fast_entry import FastEntry, applies
from seldon_wrapper.speedups.heap import WorkerHeap
from seldon_wrapper.speedups.http_reader import Refusal
from seldon_wrapper.speedups.keepalive import WORKER_CLASS, available, plain_refusal
from seldon_wrapper.speedups.ndarrays import NdarrayParser

#: ``seldon_api_refused_requests_total`` labels of the worker's refusals (by Refusal.kind).
REFUSED_LABELS = {
    "rest_body": "rest_body",
    "timeout": "rest_timeout",
    "headers": "rest_headers",
    "request_line": "rest_headers",
}


def install(app: Flask, dataplane: Dataplane) -> dict[str, Any]:
    """Put the fast entry in front of ``app``; returns the Gunicorn settings of the rest."""
    settings = dataplane.settings
    ndarrays = NdarrayParser()
    if applies(dataplane):
        app.wsgi_app = FastEntry(app.wsgi_app, dataplane, app.extensions["v2_adapter"], ndarrays)  # type: ignore[method-assign]
    heap = WorkerHeap(on_quiet=ndarrays.release)
    options: dict[str, Any] = {
        "post_fork": lambda arbiter, worker: heap.hold(),
        "post_request": lambda worker, req, environ, resp: heap.note(environ),
    }
    # One thread per worker: keep-alive with the sync worker's contract; with more threads
    # Gunicorn's gthread worker already keeps connections open.
    if settings.effective_threads == 1 and available():
        options["worker_class"] = WORKER_CLASS
        board = AcceptBoard() if settings.workers > 1 else None
        limits = {
            "header_timeout": settings.request_header_timeout,
            "body_timeout": settings.request_body_timeout,
            "body_min_rate": settings.request_body_min_rate,
            "max_body": settings.max_request_size,
        }

        def on_refused(kind: str) -> None:
            if kind in REFUSED_LABELS:
                dataplane.recorder.record_refused(REFUSED_LABELS[kind])

        def on_stopping() -> None:
            dataplane.component.draining = True

        groups = None
        if dataplane.batcher is not None:
            v2_batched = app.extensions["v2_adapter"].method == PREDICT
            groups = BatchGroups(dataplane.batcher, predictions(v2_batched))
        options["pre_fork"] = lambda arbiter, worker: worker.configure(
            limits, write_refusal, on_refused, on_stopping, board, groups
        )
    return options


def write_refusal(refusal: Refusal, headers: list[tuple[str, str]]) -> bytes:
    """A timeout or body-limit refusal in the API's error body; the others as Gunicorn's."""
    if refusal.status not in (408, 413):
        return plain_refusal(refusal, headers)
    origin = next((value for key, value in headers if key == "ORIGIN"), None)
    exc = SeldonMicroserviceException(str(refusal), status_code=refusal.status)
    status, fields, body = refused_answer(exc, refusal.method, refusal.path, origin)
    head = f"HTTP/1.1 {status} {refusal.reason}\r\nConnection: close\r\n"
    head += "".join(f"{key}: {value}\r\n" for key, value in fields)
    return (head + "\r\n").encode("latin-1") + body
