"""Calls to graph nodes over gRPC, seldon protocol (spec 3.8, 5.6, 8).

Calls are grpc.aio coroutines awaited by the walk: a request waiting on a node holds no thread,
so the front door's one event loop keeps every request in flight. One channel per node address
(``host:grpcPort``), opened on first use inside that loop and shared by every request: a gRPC
channel multiplexes concurrent calls, so a warm executor opens no connection per request. The
client's metadata goes to every node (minus what gRPC itself owns), a per-call deadline gives
``DEADLINE_EXCEEDED``, and a node's gRPC error becomes a ``WalkError`` carrying a
``GrpcFailure``, so the front door answers the client with the node's own code and message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import grpc
from google.protobuf import empty_pb2

from seldon_wrapper.executor import walk
from seldon_wrapper.executor.graph import Node
from seldon_wrapper.executor.walk import WalkError
from seldon_wrapper.proto import prediction_pb2

#: The largest message gRPC can carry; the original's client allowed it both ways.
MAX_MESSAGE = 2**31 - 1
#: Reconnect quickly after a node restarts (gRPC's own backoff grows to two minutes).
CHANNEL_OPTIONS = (
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
)
#: Incoming metadata that describes the client's own call and must not be copied onto a node
#: call: gRPC sets these itself (and refuses some of them as outgoing metadata).
NOT_FORWARDED = frozenset(
    {"user-agent", "content-type", "te", "host", "authority", "connection", "content-length",
     "transfer-encoding", "accept-encoding", "content-encoding"}
)  # fmt: skip

#: gRPC code names as the original (Go) reports them in metrics.
GO_CODE_NAMES = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}

#: An HTTP status for each gRPC code, for whoever reads ``WalkError.status``.
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}

#: observe(model_name, service, method, code, seconds): one client-metrics observation.
Observe = Callable[[str, str, str, str, float], None]
Metadata = Sequence[tuple[str, Any]]


def code_name(code: grpc.StatusCode) -> str:
    """The Go name of a gRPC code (``DEADLINE_EXCEEDED`` -> ``DeadlineExceeded``)."""
    return GO_CODE_NAMES.get(code, "Unknown")


@dataclass(frozen=True)
class GrpcFailure:
    """A gRPC status to answer the client with, unchanged: the ``payload`` of a WalkError."""

    code: grpc.StatusCode
    details: str


@dataclass(frozen=True)
class CallContext:
    """What the front door hands the walk as ``Request.context``: the client's metadata to
    forward (``seldon-puid`` among them), the V2 model-name override, and the client's own
    deadline (``time.monotonic()`` based), which bounds every node call as in the original."""

    metadata: Metadata = ()
    model_name: str | None = None
    deadline: float | None = None

    @cached_property
    def outgoing(self) -> grpc.aio.Metadata | None:
        """The metadata every node call of the request sends (``forwarded``), built once."""
        pairs = forwarded(self.metadata)
        return grpc.aio.Metadata(*pairs) if pairs else None

    @property
    def puid(self) -> str:
        """The request's ``seldon-puid`` (the payload logger's request id), "" if none."""
        return next((str(value) for key, value in self.metadata if key.lower() == "seldon-puid"), "")


def forwarded(metadata: Metadata) -> tuple[tuple[str, Any], ...]:
    """The client's metadata as sent to a node: lower-case keys, without gRPC's own
    (``grpc-*``, pseudo-headers, user-agent, content-type...)."""
    out = []
    for key, value in metadata:
        key = key.lower()
        if key.startswith((":", "grpc-")) or key in NOT_FORWARDED:
            continue
        out.append((key, value))
    return tuple(out)


def call_context(context: Any) -> CallContext:
    """``context`` itself if it is a ``CallContext`` (its ``outgoing`` metadata is forwardable
    and built once per request), else ``as_call_context(context)``."""
    return context if isinstance(context, CallContext) else as_call_context(context)


def as_call_context(context: Any) -> CallContext:
    """A ``CallContext`` with only forwardable metadata, from one, a list of pairs, or None."""
    if context is None:
        return CallContext()
    if isinstance(context, CallContext):
        return CallContext(forwarded(context.metadata), context.model_name or None, context.deadline)
    return CallContext(forwarded(context))


class Channels:
    """grpc.aio channels per node address and the RPC callables on them, made on first use in
    the running loop (a grpc.aio channel belongs to the loop that made it); the base of the
    seldon and V2 clients (the part that is not about messages)."""

    def __init__(self, timeout_s: float | None = None, observe: Observe | None = None) -> None:
        self.timeout_s = timeout_s if timeout_s else None
        self.observe = observe
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._callables: dict[tuple[str, str], grpc.aio.UnaryUnaryMultiCallable] = {}

    @staticmethod
    def address(node: Node) -> str:
        endpoint = node.endpoint
        if endpoint is None or not endpoint.grpc_port:
            raise WalkError(f"node {node.name!r} has no gRPC endpoint (service_host and grpcPort)")
        return f"{endpoint.service_host}:{endpoint.grpc_port}"

    def channel(self, address: str) -> grpc.aio.Channel:
        """The channel to ``address``; only ever called from the loop (no lock needed)."""
        channel = self._channels.get(address)
        if channel is None:
            channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
            self._channels[address] = channel
        return channel

    def _callable(
        self, address: str, path: str, serializer: Callable | None, deserializer: Callable
    ) -> grpc.aio.UnaryUnaryMultiCallable:
        key = (address, path)
        found = self._callables.get(key)
        if found is None:
            found = self.channel(address).unary_unary(
                path, request_serializer=serializer, response_deserializer=deserializer
            )
            self._callables[key] = found
        return found

    async def invoke(
        self,
        node: Node,
        model_name: str,
        path: str,
        request: Any,
        context: CallContext,
        deserializer: Callable,
        serializer: Callable | None = None,
    ) -> Any:
        """One unary call, within ``timeout_s`` and the client's deadline (gRPC's own deadline,
        no timer task); every call is observed, whatever its code, a cancelled one too (the
        client went away, or its deadline passed first). ``serializer`` None: ``request`` is
        already bytes."""
        address = self.address(node)
        call = self._callable(address, path, serializer, deserializer)
        timeout = self.timeout_s
        if context.deadline is not None:
            left = max(context.deadline - time.monotonic(), 0.0)
            timeout = left if timeout is None else min(timeout, left)
        started = time.perf_counter()
        try:
            answer = await call(request, timeout=timeout, metadata=context.outgoing)
        except grpc.RpcError as error:
            code = error.code() if callable(getattr(error, "code", None)) else grpc.StatusCode.UNKNOWN
            details = (error.details() if callable(getattr(error, "details", None)) else None) or ""
            self._observe(model_name, path, code, started)
            raise self._failure(node, address, path, code, details, timeout) from None
        except asyncio.CancelledError:
            late = context.deadline is not None and time.monotonic() >= context.deadline
            code = grpc.StatusCode.DEADLINE_EXCEEDED if late else grpc.StatusCode.CANCELLED
            self._observe(model_name, path, code, started)
            raise
        except (ValueError, grpc.aio.UsageError) as error:  # a closed channel
            raise WalkError(f"calling {path} on node {node.name!r} at {address}: {error}") from None
        self._observe(model_name, path, grpc.StatusCode.OK, started)
        return answer

    def _observe(self, model_name: str, path: str, code: grpc.StatusCode, started: float) -> None:
        if self.observe is not None:
            self.observe(model_name, path, "unary", code_name(code), time.perf_counter() - started)

    def _failure(
        self, node: Node, address: str, path: str, code: grpc.StatusCode, details: str, timeout: float | None
    ) -> WalkError:
        """The node's status, passed on. Unreachable and too slow are said so with the call
        named: those come from this side of the connection, not from the node."""
        if code == grpc.StatusCode.UNAVAILABLE:
            details = f"node {node.name!r} at {address} is unavailable ({path}): {details}"
        elif code == grpc.StatusCode.DEADLINE_EXCEEDED and timeout is not None:
            details = (
                f"node {node.name!r} at {address} did not answer {path} within {timeout:.3g}s: {details}"
            )
        message = f"{path} on node {node.name!r} failed: {code.name}: {details}"
        return WalkError(message, status=HTTP_STATUS.get(code, 500), payload=GrpcFailure(code, details))

    async def close(self) -> None:
        """Close every channel (in the loop that made them); calls still on them are cancelled."""
        channels, self._channels, self._callables = list(self._channels.values()), {}, {}
        for channel in channels:
            await channel.close()


_SM = prediction_pb2.SeldonMessage
#: purpose -> (full method, response type); requests are what the walk hands over.
SELDON_METHODS: dict[str, tuple[str, Any]] = {
    walk.PREDICT: ("/seldon.protos.Model/Predict", _SM),
    walk.TRANSFORM_INPUT: ("/seldon.protos.Transformer/TransformInput", _SM),
    walk.TRANSFORM_OUTPUT: ("/seldon.protos.OutputTransformer/TransformOutput", _SM),
    walk.ROUTE: ("/seldon.protos.Router/Route", _SM),
    walk.AGGREGATE: ("/seldon.protos.Combiner/Aggregate", _SM),
    walk.FEEDBACK: ("/seldon.protos.Model/SendFeedback", _SM),
    "metadata": ("/seldon.protos.Model/Metadata", prediction_pb2.SeldonModelMetadata),
}


class GrpcNodeClient(Channels):
    """``NodeClient`` for the seldon protocol over gRPC. ``context``: a ``CallContext`` or the
    client's metadata as (key, value) pairs; ``timeout_s``: per-call deadline (None: none);
    ``observe``: client metrics, called after every call."""

    async def __call__(self, node: Node, purpose: str, message: Any, context: Any) -> Any:
        if purpose == "status":
            failure = GrpcFailure(grpc.StatusCode.UNIMPLEMENTED, "Not implemented")
            raise WalkError("Not implemented", status=501, payload=failure)
        try:
            path, answer_type = SELDON_METHODS[purpose]
        except KeyError:
            raise WalkError(f"no gRPC method for {purpose!r}") from None
        if purpose == "metadata":
            message = empty_pb2.Empty()
        return await self.invoke(
            node, node.name, path, message, call_context(context), answer_type.FromString, _serialize
        )


def _serialize(message: Any) -> bytes:
    return message.SerializeToString()
