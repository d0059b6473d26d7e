"""gRPC server factory and the body of one gRPC serving process.

Each gRPC process builds its own server after fork (grpc must not be initialised before
forking), loads the model, reports SERVING on the standard health service once loaded. On
SIGTERM it drains: readiness (gRPC health, V2 ServerReady/ModelReady) says no at once and
still answers, new calls are refused UNAVAILABLE, every call already accepted (running or
queued for a thread) finishes within the grace period; then the server stops.
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
from seldon_wrapper.grpc import v0, v1, v2
from seldon_wrapper.settings import Settings
from seldon_wrapper.v0_adapter import V0Adapter
from seldon_wrapper.v2_adapter import V2Adapter

logger = logging.getLogger(__name__)

#: The label of gRPC message refusals in ``seldon_api_refused_requests_total``.
GRPC_MESSAGE = "grpc_message"
#: Once every accepted call is done, what is still open gets this long before it is cancelled.
STOP_GRACE_S = 0.5
#: gRPC's own default receive limit, used when no size is configured.
GRPC_DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024
#: What the health service answers for: the server as a whole (""), then each model service.
SERVICE_NAMES = ("", *v1.SERVICE_NAMES, v2.SERVICE_NAME, v0.SERVICE_NAME)


#: Calls still answered while draining: readiness and liveness say how the server is.
_HEALTH_METHODS = frozenset(
    {
        "/grpc.health.v1.Health/Check",
        "/inference.GRPCInferenceService/ServerLive",
        "/inference.GRPCInferenceService/ServerReady",
        "/inference.GRPCInferenceService/ModelReady",
    }
)


class CallPool(futures.ThreadPoolExecutor):
    """The server's threads, which know how many accepted calls are not finished.

    gRPC hands every call it accepts to the pool at once (a call waits here for a thread), and
    the task runs even when the call fails before its handler (a message over the limit, a
    client that went away), so the count always comes back to zero. Streams that run as long
    as their client wants (health ``Watch``, reflection) are not waited for.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers)
        self.accepted = 0
        self.streaming = 0
        self.idle = threading.Condition()

    def stream_began(self, change: int = 1) -> None:
        with self.idle:
            self.streaming += change
            self.idle.notify_all()

    def stream_ended(self) -> None:
        self.stream_began(-1)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> futures.Future:
        with self.idle:
            self.accepted += 1

        def counted() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self.idle:
                    self.accepted -= 1
                    self.idle.notify_all()

        return super().submit(counted)

    def wait_idle(self, timeout: float) -> bool:
        """Until every accepted call has finished, at most ``timeout`` seconds."""
        with self.idle:
            return self.idle.wait_for(lambda: self.accepted <= self.streaming, timeout)


class _TooLarge:
    """A request message over the limit, in place of the message."""

    def __init__(self, size: int) -> None:
        self.size = size


class RequestObserver(grpc.ServerInterceptor):
    """Counts and times every unary call by method and status code, and traces it; refuses
    (and counts) request messages over the limit; refuses new work once draining.

    gRPC itself refuses a message over its receive limit before Python sees it, uncounted; so
    its limit is set at twice ``max_message`` (server_options) and this observer refuses what
    lies between, with gRPC's own status and message, and counts it.
    """

    def __init__(self, recorder: Any, max_message: int, pool: CallPool) -> None:
        self.recorder = recorder
        self.max_message = max_message
        self.pool = pool
        self.draining = False

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        if handler.unary_unary is None:
            return self._open_ended(handler)
        if self.draining and handler_call_details.method not in _HEALTH_METHODS:
            return grpc.unary_unary_rpc_method_handler(
                _refuse_while_draining,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        method = handler_call_details.method.lstrip("/")
        inner = handler.unary_unary
        recorder = self.recorder
        limit = self.max_message
        deserialize = handler.request_deserializer

        def checked(data: bytes) -> Any:
            if len(data) > limit:
                return _TooLarge(len(data))
            return deserialize(data) if deserialize is not None else data

        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            if isinstance(request, _TooLarge):
                recorder.record_refused(GRPC_MESSAGE)
                context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"Received message larger than max ({request.size} vs. {limit})",
                )
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
            observed, request_deserializer=checked, response_serializer=handler.response_serializer
        )

    def _open_ended(self, handler: Any) -> Any:
        """A streaming call (health Watch, reflection): the pool does not wait for it to end."""
        pool = self.pool
        if handler.unary_stream is not None:
            inner = handler.unary_stream
            make = grpc.unary_stream_rpc_method_handler
        elif handler.stream_stream is not None:
            inner = handler.stream_stream
            make = grpc.stream_stream_rpc_method_handler
        else:
            return handler  # client streaming, unary answer: waited for like a unary call

        def watched(request: Any, context: grpc.ServicerContext) -> Any:
            pool.stream_began()
            try:
                yield from inner(request, context)
            finally:
                pool.stream_ended()

        return make(
            watched,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _refuse_while_draining(request: Any, context: grpc.ServicerContext) -> Any:
    context.abort(grpc.StatusCode.UNAVAILABLE, "Server is shutting down")


def reflection_pool() -> descriptor_pool.DescriptorPool:
    """One pool with every file the server speaks: the V2 protos live in a private pool of
    their own (see tools/gen_proto.py), the rest in protobuf's default pool."""
    from grpc_health.v1 import health_pb2 as health_messages
    from grpc_reflection.v1alpha import reflection_pb2

    from seldon_wrapper.proto import grpc_predict_v2_pb2, prediction_pb2, seldon_v0_pb2

    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(file: Any) -> None:
        if file.name in added:
            return
        for dependency in file.dependencies:
            add(dependency)
        pool.AddSerializedFile(file.serialized_pb)
        added.add(file.name)

    for module in (prediction_pb2, grpc_predict_v2_pb2, seldon_v0_pb2, health_messages, reflection_pb2):
        add(module.DESCRIPTOR)
    return pool


def max_message(settings: Settings) -> int:
    """The request message limit: the flag or annotation, else gRPC's default."""
    return settings.effective_grpc_max_message_size or GRPC_DEFAULT_MAX_MESSAGE


def server_options(settings: Settings, reuse_port: bool) -> list[tuple[str, Any]]:
    options: list[tuple[str, Any]] = [("grpc.so_reuseport", 1 if reuse_port else 0)]
    size = settings.effective_grpc_max_message_size
    if size is not None:
        options += [("grpc.max_message_length", size), ("grpc.max_send_message_length", size)]
    # gRPC refuses beyond this uncounted; RequestObserver refuses and counts from the limit on.
    options.append(("grpc.max_receive_message_length", min(2 * max_message(settings), 2**31 - 1)))
    return options


def call_threads(dataplane: Dataplane, settings: Settings) -> int:
    """``--grpc-threads``; with batching at least one more than the batch size, since the
    members of a batch each hold a thread while they wait for it (and one is left for health)."""
    threads = max(1, settings.grpc_threads)
    if dataplane.batcher is not None:
        threads = max(threads, dataplane.batcher.max_size + 1)
    return threads


def build_server(
    dataplane: Dataplane, settings: Settings
) -> tuple[grpc.Server, Any, RequestObserver, CallPool]:
    """A server with every v1 service, V2, the pre-Core Classifier, reflection and health
    (NOT_SERVING until started)."""
    pool = CallPool(call_threads(dataplane, settings))
    observer = RequestObserver(dataplane.recorder, max_message(settings), pool)
    server = grpc.server(
        pool,
        options=server_options(settings, reuse_port=settings.grpc_workers > 1),
        interceptors=[observer],
    )
    v1.add_to_server(v1.SeldonServicer(dataplane), server)
    v2.add_to_server(V2Adapter(dataplane), server)
    v0.add_to_server(V0Adapter(dataplane), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in SERVICE_NAMES:
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES[1:], health.SERVICE_NAME, reflection.SERVICE_NAME),
        server,
        pool=reflection_pool(),
    )
    return server, health_servicer, observer, pool


def mark_serving(health_servicer: Any) -> None:
    """Every service of ``build_server``'s server SERVING on the health service."""
    for name in SERVICE_NAMES:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)


def serve_process(component: Component, dataplane: Dataplane, settings: Settings, metrics: Any = None) -> int:
    """The body of one gRPC process; returns its exit code. ``metrics`` is the metrics HTTP
    server this process also runs (stopped with it)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    tracing.setup(settings.tracing, settings.interface_name)
    component.load()
    server, health_servicer, observer, pool = build_server(dataplane, settings)
    address = f"{settings.host}:{settings.grpc_port}"
    try:
        server.add_insecure_port(address)
    except RuntimeError as exc:
        logger.error("gRPC server cannot bind %s: %s", address, exc)
        return 1
    server.start()
    mark_serving(health_servicer)
    logger.info("gRPC server serving on %s with %d thread(s)", address, settings.grpc_threads)
    stop.wait()
    grace = settings.effective_grpc_grace_period
    deadline = time.monotonic() + grace
    component.draining = True
    observer.draining = True
    health_servicer.enter_graceful_shutdown()
    if not pool.wait_idle(grace):
        logger.warning("gRPC calls still running after the %s s grace period are cancelled", grace)
    # What is left are open-ended streams (and calls that just came in, refused): end them.
    server.stop(min(STOP_GRACE_S, max(0.0, deadline - time.monotonic()))).wait()
    if metrics is not None:
        metrics.shutdown()
    logger.info("gRPC server stopped")
    return 0
