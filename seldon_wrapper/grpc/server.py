"""gRPC server factory and the body of one gRPC serving process.

Each gRPC process builds its own server after fork (grpc must not be initialised before
forking), loads the model, reports SERVING on the standard health service once loaded, and on
SIGTERM stops accepting calls and lets in-flight ones finish within the grace period.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from seldon_wrapper import tracing
from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.grpc import v1, v2
from seldon_wrapper.settings import Settings
from seldon_wrapper.v2_adapter import V2Adapter

logger = logging.getLogger(__name__)


class RequestObserver(grpc.ServerInterceptor):
    """Counts and times every unary call by method and status code, and traces it."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method.lstrip("/")
        inner = handler.unary_unary
        recorder = self.recorder

        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            span = None
            if tracing.enabled():
                carrier = dict(context.invocation_metadata() or ())
                span = tracing.server_span(method, carrier, {"rpc.system": "grpc", "rpc.method": method})
            code = "OK"
            try:
                return inner(request, context)
            except BaseException:
                status = context.code() if hasattr(context, "code") else None
                code = status.name if isinstance(status, grpc.StatusCode) else "UNKNOWN"
                raise
            finally:
                recorder.record_request("grpc", method, "POST", code, time.perf_counter() - started)
                if span is not None:
                    tracing.end_server_span(*span, status_code=code, error=code != "OK")

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def reflection_pool() -> descriptor_pool.DescriptorPool:
    """One pool with every file the server speaks: the V2 protos live in a private pool of
    their own (see tools/gen_proto.py), the rest in protobuf's default pool."""
    from grpc_health.v1 import health_pb2 as health_messages
    from grpc_reflection.v1alpha import reflection_pb2

    from seldon_wrapper.proto import grpc_predict_v2_pb2, prediction_pb2

    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(file: Any) -> None:
        if file.name in added:
            return
        for dependency in file.dependencies:
            add(dependency)
        pool.AddSerializedFile(file.serialized_pb)
        added.add(file.name)

    for module in (prediction_pb2, grpc_predict_v2_pb2, health_messages, reflection_pb2):
        add(module.DESCRIPTOR)
    return pool


def server_options(settings: Settings, reuse_port: bool) -> list[tuple[str, Any]]:
    options: list[tuple[str, Any]] = [("grpc.so_reuseport", 1 if reuse_port else 0)]
    size = settings.effective_grpc_max_message_size
    if size is not None:
        options += [
            ("grpc.max_message_length", size),
            ("grpc.max_send_message_length", size),
            ("grpc.max_receive_message_length", size),
        ]
    return options


def build_server(dataplane: Dataplane, settings: Settings) -> tuple[grpc.Server, Any]:
    """A server with every v1 service, reflection and health (NOT_SERVING until started)."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max(1, settings.grpc_threads)),
        options=server_options(settings, reuse_port=settings.grpc_workers > 1),
        interceptors=[RequestObserver(dataplane.recorder)],
    )
    v1.add_to_server(v1.SeldonServicer(dataplane), server)
    v2.add_to_server(V2Adapter(dataplane), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *v1.SERVICE_NAMES, v2.SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection(
        (*v1.SERVICE_NAMES, v2.SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME),
        server,
        pool=reflection_pool(),
    )
    return server, health_servicer


def serve_process(component: Component, dataplane: Dataplane, settings: Settings, metrics: Any = None) -> int:
    """The body of one gRPC process; returns its exit code. ``metrics`` is the metrics HTTP
    server this process also runs (stopped with it)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    tracing.setup(settings.tracing, settings.interface_name)
    component.load()
    server, health_servicer = build_server(dataplane, settings)
    address = f"{settings.host}:{settings.grpc_port}"
    try:
        server.add_insecure_port(address)
    except RuntimeError as exc:
        logger.error("gRPC server cannot bind %s: %s", address, exc)
        return 1
    server.start()
    for name in ("", *v1.SERVICE_NAMES, v2.SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    logger.info("gRPC server serving on %s with %d thread(s)", address, settings.grpc_threads)
    stop.wait()
    health_servicer.enter_graceful_shutdown()
    server.stop(settings.grpc_grace_period).wait()
    if metrics is not None:
        metrics.shutdown()
    logger.info("gRPC server stopped")
    return 0
