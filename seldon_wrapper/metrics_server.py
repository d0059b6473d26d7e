"""The metrics port: a small server for the Prometheus exposition.

It only reads the multiprocess files the serving processes write, so it needs no framework;
the stdlib WSGI server with a thread per scrape is plenty. It runs in a thread of the first gRPC
process, or in a process of its own when gRPC is off.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.simple_server import make_server as make_server_

from prometheus_client import CONTENT_TYPE_LATEST

from seldon_wrapper.metrics import PrometheusRecorder
from seldon_wrapper.settings import Settings

logger = logging.getLogger(__name__)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    log_scrapes = False

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        if self.log_scrapes:
            logger.info("%s - %s", self.address_string(), format % args)


def metrics_app(recorder: PrometheusRecorder, endpoint: str) -> Callable:
    """WSGI app: the exposition at ``endpoint``, 404 elsewhere."""

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("PATH_INFO") != endpoint or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found\n"]
        body = recorder.exposition()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]

    return app


def make_server(recorder: PrometheusRecorder, settings: Settings) -> WSGIServer:
    handler = type(
        "Handler", (_QuietHandler,), {"log_scrapes": settings.access_log and not settings.filter_metrics_logs}
    )
    server = make_server_(
        settings.host,
        settings.metrics_port,
        metrics_app(recorder, settings.metrics_endpoint),
        server_class=_ThreadingServer,
        handler_class=handler,
    )
    logger.info("Metrics served on %s:%s%s", settings.host, settings.metrics_port, settings.metrics_endpoint)
    return server


def serve_in_thread(recorder: PrometheusRecorder, settings: Settings) -> WSGIServer:
    """Serve from a daemon thread of this process (the first gRPC process does, saving a
    process); call ``shutdown()`` on the result to stop."""
    server = make_server(recorder, settings)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return server


def serve_process(recorder: PrometheusRecorder, settings: Settings) -> int:
    """The body of a metrics-only process (used when gRPC is off); returns its exit code."""
    server = make_server(recorder, settings)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0
