"""Process layout: load the user class, build the front doors, and run them.

REST runs under Gunicorn, embedded through ``BaseApplication``: the app is built in the
master, and the user's ``load()`` runs once in each worker after fork (never in the master),
so fork-unsafe libraries are initialised where they are used.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.util
from typing import Any

from gunicorn.app.base import BaseApplication

from seldon_wrapper import loader
from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.rest.app import create_app
from seldon_wrapper.settings import Settings

logger = logging.getLogger(__name__)


class RestApplication(BaseApplication):
    """Gunicorn running our Flask app with a programmatic configuration."""

    def __init__(self, app: Any, component: Component, options: dict[str, Any]) -> None:
        self.application = app
        self.component = component
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after fork: the forked copy of multiprocessing's exit hook
        # would otherwise terminate the master's helper processes when a worker exits.
        atexit.unregister(multiprocessing.util._exit_function)
        self.component.load()
        logger.info("Model loaded in REST worker")
        return self.application


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """Gunicorn settings from ours (spec 1.9)."""
    return {
        "bind": f"{settings.host}:{settings.http_port}",
        "workers": settings.workers,
        "threads": settings.effective_threads,
        "max_requests": settings.max_requests,
        "max_requests_jitter": settings.max_requests_jitter,
        "keepalive": settings.keepalive,
        "timeout": settings.rest_timeout_s,
        "loglevel": settings.log_level.lower(),
        "accesslog": "-" if settings.access_log else None,
        "pidfile": settings.pidfile,
        # gunicorn >= 25 opens a control socket at a fixed per-user path; several servers
        # on one machine would fight over it, and the original never had one.
        "control_socket_disable": True,
    }


def build(settings: Settings) -> tuple[Component, Dataplane, Any]:
    """Import and instantiate the user class once, in this process, and build the REST app."""
    user = loader.load_user_object(settings.interface_name, settings.parameters)
    component = Component(user)
    dataplane = Dataplane(component, settings)
    return component, dataplane, create_app(dataplane)


def _start_custom_service(component: Component) -> None:
    if component.custom_service is None:
        return
    process = multiprocessing.get_context("fork").Process(
        target=component.custom_service, name="custom_service", daemon=True
    )
    process.start()
    logger.info("Started custom_service process %s", process.pid)


def run(settings: Settings) -> int:
    """Serve until stopped; returns the exit code."""
    component, dataplane, app = build(settings)
    _start_custom_service(component)
    if settings.debug:
        component.load()
        logger.info(
            "Serving REST with the Flask development server on %s:%s", settings.host, settings.http_port
        )
        app.run(host=settings.host, port=settings.http_port, threaded=not settings.single_threaded)
        return 0
    options = gunicorn_options(settings)
    logger.info(
        "Serving REST on %s with %d worker(s), %d thread(s) each",
        options["bind"],
        settings.workers,
        settings.effective_threads,
    )
    RestApplication(app, component, options).run()
    return 0
