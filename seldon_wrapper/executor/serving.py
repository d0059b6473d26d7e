"""The executor's processes: the REST server (Gunicorn), the gRPC server, local components.

This process reads the graph, forks the REST and gRPC servers while it has no thread yet (a fork
copies no lock a thread holds), then starts the ``--component`` classes and waits until they
answer (``/ready`` says 503 meanwhile), and watches them all: a component that dies is
restarted; a front door that dies stops the executor. On SIGTERM or SIGINT the front doors stop
first (each finishing the requests it accepted within ``--graceful_timeout``), then the
components, so no request in flight loses the node it is waiting for.
"""

from __future__ import annotations

import atexit
import ctypes
import dataclasses
import logging
import multiprocessing.util
import os
import signal
import time
from multiprocessing.sharedctypes import RawValue
from typing import Any

from gunicorn.app.base import BaseApplication

from seldon_wrapper import logs
from seldon_wrapper.executor import graph
from seldon_wrapper.executor.graph import GraphError, Predictor
from seldon_wrapper.executor.settings import PROTOCOLS, ExecutorSettings
from seldon_wrapper.serving import Children

logger = logging.getLogger(__name__)

#: How often the supervisor looks at its processes (seconds).
SUPERVISE_INTERVAL_S = 0.5


def load_predictor(settings: ExecutorSettings) -> Predictor:
    """The graph from ``--file`` or ``ENGINE_PREDICTOR``, checked against the bindings."""
    bound = [binding.node for binding in settings.components]
    if settings.file:
        return graph.from_file(settings.file, settings.predictor, settings.namespace, bound)
    return graph.from_engine_predictor(settings.engine_predictor, settings.sdep, settings.namespace, bound)


def protocol_of(settings: ExecutorSettings, predictor: Predictor) -> ExecutorSettings:
    """Without ``--protocol``, the SeldonDeployment's ``spec.protocol`` (as the operator would
    have passed it); a protocol the executor does not serve is a GraphError."""
    if settings.protocol_from_flag or not predictor.protocol:
        return settings
    protocol = predictor.protocol.lower()
    if protocol not in PROTOCOLS:
        raise GraphError(
            f"the SeldonDeployment's protocol {predictor.protocol!r} is unknown ({', '.join(PROTOCOLS)})"
        )
    if protocol == "tensorflow":
        raise GraphError("the SeldonDeployment's protocol tensorflow is not supported by this executor")
    return dataclasses.replace(settings, protocol=protocol)


class ExecutorRestApplication(BaseApplication):
    """Gunicorn running the executor's event-loop workers (rest_worker.py)."""

    def __init__(self, app: Any, settings: ExecutorSettings) -> None:
        self.application = app
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        from seldon_wrapper.executor.rest_worker import WORKER_CLASS

        settings = self.settings
        options = {
            "bind": f"{settings.host}:{settings.http_port}",
            "workers": settings.rest_workers,
            "worker_class": WORKER_CLASS,
            "timeout": 0,  # a walk may wait on a slow node as long as the node-call timeout allows
            "graceful_timeout": max(1, round(settings.graceful_timeout_s)),
            "loglevel": settings.log_level.lower(),
            "control_socket_disable": True,
            "logconfig_dict": logs.gunicorn_logconfig(settings.log_level, False),
            "worker_exit": lambda arbiter, worker: _close_logger(self.application),
        }
        for key, value in options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        # Each worker is a fork: its copy of multiprocessing's exit hook must not touch our helpers.
        atexit.unregister(multiprocessing.util._exit_function)
        return self.application


def _close_logger(app: Any) -> None:
    payload_logger = getattr(app, "payload_logger", None)
    if payload_logger is not None:
        payload_logger.close()


def _payload_logger(settings: ExecutorSettings, metrics: Any) -> Any:
    from seldon_wrapper.executor.payload_logger import PayloadLogger

    return PayloadLogger(
        workers=settings.logger_workers,
        buffer_size=settings.log_work_buffer_size,
        # Both front doors are event loops: waiting for room would hold every request in flight,
        # so a full queue drops the event at once (--log_write_timeout_ms is not waited).
        write_timeout_ms=0,
        source=settings.source_url,
        deployment=settings.sdep,
        namespace=settings.namespace,
        predictor=settings.predictor,
        protocol=settings.protocol,
        default_endpoint=settings.logger_default_endpoint,
        on_drop=metrics.dropped,
    )


def _uses_logger(predictor: Predictor) -> bool:
    return any(node.logger for node in predictor.graph.walk())


class _Stop(Exception):
    pass


def run(settings: ExecutorSettings) -> int:
    """Serve the graph until told to stop; the exit code (GraphError/ComponentError propagate)."""
    from seldon_wrapper.executor.metrics import ExecutorMetrics
    from seldon_wrapper.executor.rest_server import ExecutorApp

    predictor = load_predictor(settings)
    settings = protocol_of(settings, predictor)
    components = None
    stopping = {"signal": None}

    def on_signal(signum: int, frame: Any) -> None:
        stopping["signal"] = signum
        raise _Stop

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    owner = os.getpid()
    children = Children(settings.graceful_timeout_s)
    code = 0
    try:
        if settings.components:
            from seldon_wrapper.executor.components import LocalComponents

            components = LocalComponents(
                predictor,
                settings.components,
                deployment=settings.sdep,
                namespace=settings.namespace,
                start_timeout_s=settings.component_start_timeout_s,
                log_level=settings.log_level,
            )
            predictor = components.plan()
        metrics = ExecutorMetrics(settings.sdep, predictor)
        payload_logger = _payload_logger(settings, metrics) if _uses_logger(predictor) else None
        # Shared with the forks: /ready says 503 until every component has been seen ready here.
        started = RawValue(ctypes.c_bool, components is None)
        app = ExecutorApp(predictor, settings, metrics, payload_logger, started=lambda: started.value)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the forks set their own
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        children.fork("gRPC", lambda: _serve_grpc(predictor, settings, metrics, payload_logger))
        children.fork("REST", lambda: _serve_rest(app, settings))
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if components is not None:  # the servers answer meanwhile; /ready says 503 until it is done
            components.start()
            started.value = True
        logger.info(
            "Executor serving graph %r of %s/%s: REST on :%s, gRPC on :%s (protocol %s)",
            predictor.name,
            settings.namespace,
            settings.sdep,
            settings.http_port,
            settings.grpc_port,
            settings.protocol,
        )
        while True:
            time.sleep(SUPERVISE_INTERVAL_S)
            if components is not None:
                components.poll()
            for pid in list(children.pids):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == pid:
                    children.pids.remove(pid)
                    logger.error("A server process (%s) exited with status %s; stopping", pid, status)
                    code = 1
                    raise _Stop
    except _Stop:
        if stopping["signal"] is not None:
            logger.info("Signal %s received: stopping", stopping["signal"])
            if settings.shutdown_delay_s > 0:
                time.sleep(settings.shutdown_delay_s)
    finally:
        if os.getpid() == owner:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            children.stop()
            if components is not None:
                components.stop()
    return code


def _serve_rest(app: Any, settings: ExecutorSettings) -> int:
    ExecutorRestApplication(app, settings).run()
    return 0


def _serve_grpc(predictor: Predictor, settings: ExecutorSettings, metrics: Any, payload_logger: Any) -> int:
    """The gRPC front door, in its own process (grpc must not be initialised before a fork): one
    asyncio loop runs the grpc.aio server and every walk (no thread per request in flight).
    SIGTERM/SIGINT stop it gracefully (``--graceful_timeout``); 1 if it cannot listen."""
    import asyncio

    from seldon_wrapper.executor.grpc_server import build_server, make_walk

    async def serve() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        walk = make_walk(
            settings.protocol,
            timeout_s=settings.grpc_timeout_s,
            observe=metrics.client,
            inject_routing=settings.routing_injection,
            log=_grpc_logger(payload_logger) if payload_logger is not None else None,
        )
        server = build_server(
            predictor,
            walk,
            settings.protocol,
            max_message_size=settings.grpc_max_message_size,
            observe_server=metrics.server,
        )
        address = f"{settings.host}:{settings.grpc_port}"
        try:
            bound = server.add_insecure_port(address)
        except RuntimeError:  # grpc raises where it used to answer 0
            bound = 0
        if not bound:
            logger.error("gRPC server cannot listen on %s", address)
            return 1
        await server.start()
        await stop.wait()
        await server.stop(settings.graceful_timeout_s)
        await walk.call.close()
        return 0

    code = asyncio.run(serve())
    metrics.flush()
    if payload_logger is not None:
        payload_logger.close()
    return code


def _grpc_logger(payload_logger: Any) -> Any:
    """Payload-logger events of the gRPC walk: the messages as serialised protobuf."""
    from seldon_wrapper.executor.payload_logger import wants

    def log(node: Any, kind: str, message: Any, request: Any) -> None:
        if wants(node, kind):
            data = message.SerializeToString()
            payload_logger.log(node, kind, data, "application/protobuf", None, request.context.puid)

    return log


__all__ = ["GraphError", "load_predictor", "run"]
