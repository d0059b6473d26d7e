"""The speed machinery, all of it, behind one switch (``--speedups`` / ``SELDON_SPEEDUPS``).

None of it changes an answer; each part only makes the same answer cheaper:

* ``fast_entry``: JSON predictions (v1 and V2 infer) answered straight from WSGI, skipping
  Flask's request cycle, with the Flask route's own handler;
* ``ndarrays``: large v1 ``ndarray`` bodies parsed straight into numpy, through a pool of
  simdjson parsers;
* ``keepalive``: the one-thread Gunicorn worker that keeps HTTP/1.1 connections open, and
  ``accept_board``, which spreads new connections over several such workers;
* ``heap``: a worker keeps the memory of large requests while they come and gives it back
  when quiet.

``install`` is the one hook serving calls. Switched off, REST runs as the original did:
Flask for every request and Gunicorn's own sync (or gthread) worker.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.speedups.accept_board import AcceptBoard
from seldon_wrapper.speedups.fast_entry import FastEntry, applies
from seldon_wrapper.speedups.heap import WorkerHeap
from seldon_wrapper.speedups.keepalive import WORKER_CLASS, available
from seldon_wrapper.speedups.ndarrays import NdarrayParser


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
        if settings.workers > 1:
            board = AcceptBoard()
            options["pre_fork"] = lambda arbiter, worker: worker.use_board(board)
    return options
