"""The original's ``seldon_core.gunicorn_utils``: Gunicorn worker hooks and application classes.

seldon-wrapper's own server embeds Gunicorn through ``seldon_wrapper.serving``; this module keeps
the original's helpers for code that builds its own Gunicorn application around a Flask app
(``StandaloneApplication(get_rest_microservice(model), options).run()``).
"""

from __future__ import annotations

import atexit
import logging
import os
from multiprocessing.util import _exit_function
from typing import Any, Dict, Union  # noqa: F401, UP035 - names the original's module had

from gunicorn.app.base import BaseApplication

from seldon_core.metrics import SeldonMetrics
from seldon_core.utils import setup_tracing

__all__ = [
    "StandaloneApplication",
    "UserModelApplication",
    "accesslog",
    "post_worker_init",
    "threads",
    "worker_exit",
]

logger = logging.getLogger(__name__)


def post_worker_init(worker: Any) -> None:
    """A forked worker must not run the master's multiprocessing exit handler (it would join the
    master's children): drop it, as the original did."""
    atexit.unregister(_exit_function)


def worker_exit(server: Any, worker: Any, seldon_metrics: SeldonMetrics) -> None:
    """A worker that exits takes its custom metrics with it."""
    seldon_metrics.clear()


def accesslog(flag: bool) -> str | None:
    """Gunicorn's ``accesslog`` setting: ``"-"`` (stdout) when access logs are on, else None."""
    return "-" if flag else None


def threads(threads: int, single_threaded: bool) -> int:
    """Threads per Gunicorn worker: 1 when single-threaded, else ``threads``."""
    return 1 if single_threaded else threads


class StandaloneApplication(BaseApplication):
    """Gunicorn serving a ready-made WSGI app with the given settings (unknown or None ones skipped)."""

    def __init__(self, app: Any, options: dict | None = None) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in (self.options or {}).items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def load(self) -> Any:
        return self.application


class UserModelApplication(StandaloneApplication):
    """A StandaloneApplication that calls the user's ``load()`` in each worker before serving.

    With ``tracing`` (and ``jaeger_extra_tags`` given) tracing is set up first, with OpenTelemetry
    (``seldon_core.utils.setup_tracing``) where the original used Jaeger and Flask-OpenTracing.
    """

    def __init__(
        self,
        app: Any,
        user_object: Any,
        tracing: Any,
        jaeger_extra_tags: Any,
        interface_name: str,
        options: dict | None = None,
    ) -> None:
        self.user_object = user_object
        self.tracing = tracing
        self.jaeger_extra_tags = jaeger_extra_tags
        self.interface_name = interface_name
        super().__init__(app, options)

    def load(self) -> Any:
        if self.tracing and self.jaeger_extra_tags is not None:
            logger.info("Tracing branch is active")
            setup_tracing(self.interface_name)
        else:
            logger.info("Tracing not active")
        logger.debug("Loading the app in process %d", os.getpid())
        try:
            self.user_object.load()
        except (NotImplementedError, AttributeError):
            logger.debug("No load method in user model")
        return self.application
