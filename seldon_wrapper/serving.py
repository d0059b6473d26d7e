"""Process layout: load the user class, build the front doors, and run them.

REST runs under Gunicorn, embedded through ``BaseApplication``: the app is built in the
master, and the user's ``load()`` runs once in each worker after fork (never in the master),
so fork-unsafe libraries are initialised where they are used.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import math
import multiprocessing
import multiprocessing.util
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from seldon_wrapper import loader, logs, tracing
from seldon_wrapper import metrics_dir as metrics_dir_module
from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.metrics import MetricsRecorder, PrometheusRecorder
from seldon_wrapper.rest.app import create_app
from seldon_wrapper.rest.limits import BodyLimit
from seldon_wrapper.settings import Settings

logger = logging.getLogger(__name__)


class _Arbiter(Arbiter):
    """Gunicorn's master, which also tells the helper processes at once when it is told to stop.

    Gunicorn waits for its workers before its ``on_exit`` hook runs; the gRPC servers must not
    wait for REST to finish before they begin their own grace period.
    """

    on_stop: Callable[[], None] = staticmethod(lambda: None)

    def handle_term(self) -> None:
        self.on_stop()
        super().handle_term()

    def handle_int(self) -> None:
        self.on_stop()
        super().handle_int()


class RestApplication(BaseApplication):
    """Gunicorn running our Flask app with a programmatic configuration."""

    def __init__(self, app: Any, component: Component, settings: Settings, options: dict[str, Any]) -> None:
        self.application = app
        self.component = component
        self.settings = settings
        self.options = options
        self.on_stop: Callable[[], None] = lambda: None
        super().__init__()

    def run(self) -> None:
        arbiter = _Arbiter(self)
        arbiter.on_stop = self.on_stop
        try:
            arbiter.run()
        except RuntimeError as exc:  # Gunicorn's own start-up errors (as its run() reports them)
            logger.error("REST server failed: %s", exc)
            sys.exit(1)

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after fork: the forked copy of multiprocessing's exit hook
        # would otherwise terminate the master's helper processes when a worker exits.
        atexit.unregister(multiprocessing.util._exit_function)
        tracing.setup(self.settings.tracing, self.settings.interface_name)
        self.component.load()
        logger.info("Model loaded in REST worker")
        return self.application


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """Gunicorn settings from ours (spec 1.9)."""
    return {
        "bind": f"{settings.host}:{settings.http_port}"
        if not settings.http_socket
        else [f"{settings.host}:{settings.http_port}", f"unix:{settings.http_socket}"],
        "workers": settings.workers,
        "threads": settings.effective_threads,
        "max_requests": settings.max_requests,
        "max_requests_jitter": settings.max_requests_jitter,
        "keepalive": settings.keepalive,
        "worker_connections": settings.worker_connections,
        "timeout": settings.rest_timeout_s,
        "graceful_timeout": math.ceil(settings.grace_period),  # Gunicorn takes whole seconds
        "loglevel": settings.log_level.lower(),
        "accesslog": "-" if settings.access_log else None,
        "pidfile": settings.pidfile,
        # gunicorn >= 25 opens a control socket at a fixed per-user path; several servers
        # on one machine would fight over it, and the original never had one.
        "control_socket_disable": True,
        "logconfig_dict": logs.gunicorn_logconfig(settings.log_level, settings.log_format == "json"),
    }


def build(settings: Settings, recorder: MetricsRecorder | None = None) -> tuple[Component, Dataplane, Any]:
    """Import and instantiate the user class once, in this process, and build the REST app."""
    user = loader.load_user_object(settings.interface_name, settings.parameters)
    component = Component(user)
    dataplane = Dataplane(component, settings, recorder)
    return component, dataplane, create_app(dataplane)


def _start_custom_service(component: Component) -> None:
    if component.custom_service is None:
        return
    process = multiprocessing.get_context("fork").Process(
        target=component.custom_service, name="custom_service", daemon=True
    )
    process.start()
    logger.info("Started custom_service process %s", process.pid)


class Children:
    """Helper processes forked from this one (gRPC servers, the metrics server).

    They are forked before Gunicorn starts and before any gRPC object exists here, and are
    stopped with SIGTERM, a grace period, then SIGKILL.
    """

    def __init__(self, grace_period: float) -> None:
        self.grace_period = grace_period
        self.pids: list[int] = []

    def fork(self, name: str, target: Callable[[], int]) -> None:
        pid = os.fork()
        if pid == 0:  # the child runs the target and never returns
            code = 1
            try:
                code = target()
            except SystemExit as exc:  # Gunicorn's master and workers end this way
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except BaseException as exc:
                logger.error("%s process failed: %s: %s", name, type(exc).__name__, exc)
                logger.debug("Traceback of the failure", exc_info=exc)
            finally:
                logging.shutdown()
                os._exit(code)
        self.pids.append(pid)

    def signal_stop(self) -> None:
        """Tell every helper to stop (each finishes what it accepted within its grace period)."""
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def stop(self) -> None:
        self.signal_stop()
        deadline = time.monotonic() + self.grace_period + 5
        remaining = list(self.pids)
        while remaining and time.monotonic() < deadline:
            remaining = [pid for pid in remaining if not _reaped(pid)]
            if remaining:
                time.sleep(0.05)
        for pid in remaining:
            logger.warning("Process %s did not stop in time; killing it", pid)
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        self.pids = []


def _reaped(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # already reaped (gunicorn's arbiter reaps every child)
        return True
    return done == pid


def start_children(component: Component, dataplane: Dataplane, settings: Settings) -> Children:
    """The gRPC servers, the first of which also serves metrics (else a metrics process)."""
    children = Children(settings.effective_grpc_grace_period)
    recorder = dataplane.recorder if isinstance(dataplane.recorder, PrometheusRecorder) else None
    if recorder is not None and settings.grpc_workers < 1:
        from seldon_wrapper import metrics_server

        children.fork("metrics", lambda: metrics_server.serve_process(recorder, settings))
    for index in range(settings.grpc_workers):
        metrics = recorder if index == 0 else None

        def grpc_target(metrics: PrometheusRecorder | None = metrics) -> int:
            metrics_http = None
            if metrics is not None:  # first, so scrapes work while gRPC loads
                from seldon_wrapper import metrics_server

                metrics_http = metrics_server.serve_in_thread(metrics, settings)
            from seldon_wrapper.grpc.server import serve_process

            return serve_process(component, dataplane, settings, metrics_http)

        children.fork("gRPC", grpc_target)
    if settings.grpc_workers > 0:
        logger.info(
            "gRPC serving on %s:%s with %d process(es)",
            settings.host,
            settings.grpc_port,
            settings.grpc_workers,
        )
    return children


def run(settings: Settings, metrics_dir: str | None = None) -> int:
    """Serve until stopped; returns the exit code. ``metrics_dir`` is removed at the end.

    Gunicorn workers are forks of this call: when one exits, its SystemExit unwinds through
    these ``finally`` blocks too, so only the process that started the server cleans up.
    """
    owner = os.getpid()
    children: Children | None = None
    try:
        component, dataplane, app = build(settings, PrometheusRecorder(settings))
        _start_custom_service(component)
        # Objects built so far are shared with every forked process: moving them out of the
        # collector's reach keeps the garbage collector from writing to (and so copying) their
        # pages in each child.
        gc.collect()
        gc.freeze()
        children = start_children(component, dataplane, settings)
        if settings.debug:
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            tracing.setup(settings.tracing, settings.interface_name)
            component.load()
            logger.info("Serving REST with Flask's dev server on %s:%s", settings.host, settings.http_port)
            app.run(host=settings.host, port=settings.http_port, threaded=not settings.single_threaded)
            return 0
        options = gunicorn_options(settings)
        if settings.speedups:
            from seldon_wrapper import speedups

            options.update(speedups.install(app, dataplane))
        # Our worker checks the body limit while it reads; Gunicorn's own workers need the layer.
        own_worker = "worker_class" in options  # set only by speedups.install
        wsgi = app if own_worker else BodyLimit(app, settings.max_request_size, dataplane.recorder)
        application = RestApplication(wsgi, component, settings, options)
        application.cfg.set("on_exit", lambda arbiter: children.stop())
        application.on_stop = children.signal_stop
        logger.info(
            "Serving REST on %s:%s with %d worker(s), %d thread(s) each",
            settings.host,
            settings.http_port,
            settings.workers,
            settings.effective_threads,
        )
        application.run()
        return 0
    finally:
        if os.getpid() == owner:
            if children is not None:
                children.stop()
            metrics_dir_module.remove(metrics_dir)
