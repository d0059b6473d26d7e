"""The executor's Gunicorn worker: the REST server's event loop in each worker process.

Gunicorn stays the process manager (workers, ``--rest_workers``, the heartbeat, a dead worker's
replacement, graceful stop); each worker runs one asyncio loop with the executor's HTTP server
(http_server.py) on Gunicorn's listening sockets. SIGTERM stops the accepting, lets requests in
flight finish within ``--graceful_timeout``, then closes the rest.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from gunicorn.workers.base import Worker

from seldon_wrapper.executor.http_server import HttpServer, Limits

#: How often the worker tells Gunicorn it is alive and looks for a dead parent (seconds).
HEARTBEAT_S = 1.0
WORKER_CLASS = "seldon_wrapper.executor.rest_worker.ExecutorWorker"


class ExecutorWorker(Worker):
    """Serves ``self.wsgi`` (the executor's ``ExecutorApp``, not a WSGI callable)."""

    def run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            loop.add_signal_handler(signum, stop.set)
        app: Any = self.wsgi
        settings = app.settings
        limits = Limits(
            max_body=settings.max_request_size,
            read_timeout_s=settings.rest_read_timeout_s or 0.0,
            idle_timeout_s=settings.rest_idle_timeout_s or 0.0,
            max_header_bytes=settings.rest_max_header_bytes,
        )
        server = HttpServer(app, app.refuse, limits)
        for listener in self.sockets:
            await server.listen(listener.sock)
        while self.alive and not stop.is_set():
            self.notify()
            if os.getppid() != self.ppid:
                self.log.info("Parent changed, shutting down: %s", self)
                break
            try:
                await asyncio.wait_for(stop.wait(), HEARTBEAT_S)
            except TimeoutError:
                pass
        await server.stop(self.cfg.graceful_timeout)
        app.close()
