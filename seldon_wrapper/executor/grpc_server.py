"""The executor's gRPC front door (spec 1.3, 3.8, 4.4, 6.2, 8).

Protocol ``seldon``: ``seldon.protos.Seldon`` (Predict, SendFeedback, ModelMetadata,
GraphMetadata) and server reflection. Protocol ``v2``/``kfserving``:
``inference.GRPCInferenceService`` (ModelInfer through the graph, ModelReady and ModelMetadata
of one node, ServerLive/ServerReady). Each request gets a ``seldon-puid`` (the client's, else a
new UUID4) that goes to every node with the rest of the client's metadata and, for Predict and
SendFeedback, back to the client as header metadata. A node's gRPC error reaches the client with
its own code and message; the executor's own errors say what went wrong with a fitting code.

The server is grpc.aio: its handlers are coroutines running the async walk, so one event loop
serves every request in flight and a request waiting on its nodes holds no thread (a thread per
request, as sync grpc needs, caps the requests in flight and costs a switch per node call).

``build_server`` returns the server unbound and unstarted: the caller, in the loop that will run
it, adds its port (so tests and the CLI choose the address) and starts and stops it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format

from seldon_wrapper.executor.graph import Node, Predictor
from seldon_wrapper.executor.graph_metadata import build_graph_metadata
from seldon_wrapper.executor.grpc_client import (
    MAX_MESSAGE,
    CallContext,
    GrpcFailure,
    GrpcNodeClient,
    Observe,
    code_name,
)
from seldon_wrapper.executor.payload_logger import skip_logging
from seldon_wrapper.executor.seldon_grpc import SeldonProtoPayloads
from seldon_wrapper.executor.v2_grpc import V2GrpcNodeClient, V2ProtoPayloads
from seldon_wrapper.executor.walk import Logger, Request, Walk, WalkError
from seldon_wrapper.proto import grpc_predict_v2_pb2 as v2
from seldon_wrapper.proto import prediction_pb2 as pb

logger = logging.getLogger(__name__)

SELDON_SERVICE = "seldon.protos.Seldon"
V2_SERVICE = "inference.GRPCInferenceService"
PUID = "seldon-puid"
#: Remaining seconds beyond this mean the client set no deadline.
NO_DEADLINE = 10**9
#: observe_server(service, method, code, seconds): one server-metrics observation.
ObserveServer = Callable[[str, str, str, float], None]
#: An RPC's coroutine: (request, context) -> answer.
Handle = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]

#: The gRPC code for an executor error (a WalkError without a node's status), by its HTTP status.
CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def make_walk(
    protocol: str,
    *,
    timeout_s: float | None = None,
    observe: Observe | None = None,
    inject_routing: bool = False,
    log: Logger | None = None,
) -> Walk:
    """A walk calling nodes over grpc.aio in ``protocol`` (``seldon``, ``v2`` or ``kfserving``);
    ``log`` gets the payload logger's events (each ``Request.context`` is a ``CallContext``).
    Its node client's channels are made in the loop that first uses them: run it in one loop."""
    if protocol == "seldon":
        client: Any = GrpcNodeClient(timeout_s, observe)
        payloads: Any = SeldonProtoPayloads()
    elif protocol in ("v2", "kfserving"):
        client, payloads = V2GrpcNodeClient(timeout_s, observe), V2ProtoPayloads()
    else:
        raise ValueError(f"no gRPC front door for protocol {protocol!r} (seldon, v2 or kfserving)")
    return Walk(client, payloads, inject_routing=inject_routing, log=log)


def build_server(
    predictor: Predictor,
    walk: Walk,
    protocol: str = "seldon",
    *,
    max_message_size: int = MAX_MESSAGE,
    observe_server: ObserveServer | None = None,
) -> grpc.aio.Server:
    """The front door for ``predictor``, walking it with ``walk`` (see ``make_walk``);
    ``max_message_size`` bounds requests and answers (bytes). Call it in the running loop that
    will serve it (a grpc.aio server belongs to its loop)."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_message_size),
            ("grpc.max_send_message_length", max_message_size),
        ],
    )
    front = FrontDoor(predictor, walk, observe_server)
    if protocol == "seldon":
        server.add_generic_rpc_handlers((front.seldon_handler(),))
        from grpc_reflection.v1alpha import reflection

        reflection.enable_server_reflection((SELDON_SERVICE, reflection.SERVICE_NAME), server)
    elif protocol in ("v2", "kfserving"):
        server.add_generic_rpc_handlers((front.v2_handler(),))
    else:
        raise ValueError(f"no gRPC front door for protocol {protocol!r} (seldon, v2 or kfserving)")
    return server


class Failure(Exception):
    """An answer that is a gRPC status, not a message."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


def failure_of(error: WalkError) -> Failure:
    """A node's status unchanged; else the executor's message with the code its status means."""
    if isinstance(error.payload, GrpcFailure):
        return Failure(error.payload.code, error.payload.details)
    return Failure(CODES.get(error.status, grpc.StatusCode.INTERNAL), error.message)


def request_context(context: grpc.aio.ServicerContext) -> tuple[CallContext, str]:
    """The client's metadata with keys lower-cased and ``seldon-puid`` set (the client's if it
    sent a non-empty one, else a new UUID4), its deadline, and that puid."""
    metadata = [(key.lower(), value) for key, value in context.invocation_metadata() or ()]
    puid = next((value for key, value in metadata if key == PUID and value), None) or str(uuid.uuid4())
    metadata = [(key, value) for key, value in metadata if key != PUID]
    metadata.append((PUID, puid))
    left = context.time_remaining()  # a call without a deadline has one in some 300 billion years
    deadline = None if left is None or left > NO_DEADLINE else time.monotonic() + left
    return CallContext(tuple(metadata), None, deadline), puid


def walk_request(call: CallContext) -> Request:
    """A walk's state for one call; ``seldon-skip-logging: true|on|1`` keeps its payloads out of
    the payload logger (the original looked the key up wrongly over gRPC and never skipped)."""
    return Request(context=call, log=not skip_logging(call.metadata))


class FrontDoor:
    """The RPC handlers: each turns a call into a walk (or one node call) and the outcome into
    an answer or a status, observed for the server metrics."""

    def __init__(self, predictor: Predictor, walk: Walk, observe: ObserveServer | None) -> None:
        self.predictor = predictor
        self.walk = walk
        self.observe = observe

    # -- plumbing ----------------------------------------------------------------------------

    def _handler(self, service: str, methods: list[tuple[str, Handle, Any, Any]]) -> grpc.GenericRpcHandler:
        """``service``'s RPCs: (method, handle, request type, answer type) each."""
        return grpc.method_handlers_generic_handler(
            service, {name: self._unary(f"/{service}/{name}", *rest) for name, *rest in methods}
        )

    def _unary(self, full: str, handle: Handle, request_type: Any, answer_type: Any) -> grpc.RpcMethodHandler:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
            # Observed before answering: an abort sends the status at once, the client may be
            # reading the metrics next.
            started = time.perf_counter()
            try:
                answer = await handle(request, context)
            except (Failure, WalkError) as error:
                failure = failure_of(error) if isinstance(error, WalkError) else error
                code, details = failure.code, failure.details
            except asyncio.CancelledError:  # the client went away, or its deadline passed
                left = context.time_remaining()
                late = left is not None and left <= 0
                self._observe(
                    full, grpc.StatusCode.DEADLINE_EXCEEDED if late else grpc.StatusCode.CANCELLED, started
                )
                raise
            except Exception as error:  # a bug here: the client still gets a status saying so
                logger.exception("%s failed", full)
                code = grpc.StatusCode.INTERNAL
                details = f"executor error: {type(error).__name__}: {error}"
            else:
                self._observe(full, grpc.StatusCode.OK, started)
                return answer
            self._observe(full, code, started)
            await context.abort(code, details)

        return grpc.unary_unary_rpc_method_handler(
            run,
            request_deserializer=request_type.FromString,
            response_serializer=answer_type.SerializeToString,
        )

    def _observe(self, full: str, code: grpc.StatusCode, started: float) -> None:
        if self.observe is not None:
            self.observe(full, "unary", code_name(code), time.perf_counter() - started)

    def _node(self, name: str) -> Node:
        node = self.predictor.node(name)
        if node is None:
            raise Failure(grpc.StatusCode.NOT_FOUND, f"Failed to find model {name}")
        return node

    # -- seldon.protos.Seldon ----------------------------------------------------------------

    def seldon_handler(self) -> grpc.GenericRpcHandler:
        return self._handler(
            SELDON_SERVICE,
            [
                ("Predict", self.predict, pb.SeldonMessage, pb.SeldonMessage),
                ("SendFeedback", self.feedback, pb.Feedback, pb.SeldonMessage),
                ("ModelMetadata", self.model_metadata, pb.SeldonModelMetadataRequest, pb.SeldonModelMetadata),
                ("GraphMetadata", self.graph_metadata, empty_pb2.Empty, pb.SeldonGraphMetadata),
            ],
        )

    async def predict(self, request: pb.SeldonMessage, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        call, puid = request_context(context)
        await context.send_initial_metadata(((PUID, puid),))
        return await self.walk.predict(self.predictor.graph, request, walk_request(call))

    async def feedback(self, request: pb.Feedback, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        """The root's feedback answer; an empty message when the root takes no feedback (the walk
        then answers the feedback itself, which is not a SeldonMessage)."""
        call, puid = request_context(context)
        await context.send_initial_metadata(((PUID, puid),))
        answer = await self.walk.feedback(self.predictor.graph, request, walk_request(call))
        return answer if isinstance(answer, pb.SeldonMessage) else pb.SeldonMessage()

    async def model_metadata(
        self, request: pb.SeldonModelMetadataRequest, context: grpc.aio.ServicerContext
    ) -> pb.SeldonModelMetadata:
        node = self._node(request.name)
        call, _ = request_context(context)
        return await self.walk.call(node, "metadata", None, call)

    async def graph_metadata(
        self, request: empty_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> pb.SeldonGraphMetadata:
        call, _ = request_context(context)

        async def fetch(node: Node) -> Mapping[str, Any]:
            answer = await self.walk.call(node, "metadata", None, call)
            return json_format.MessageToDict(answer, preserving_proto_field_name=True)

        metadata = await build_graph_metadata(self.predictor, fetch)
        return graph_metadata_message(metadata)

    # -- inference.GRPCInferenceService --------------------------------------------------------

    def v2_handler(self) -> grpc.GenericRpcHandler:
        async def live(*_: Any) -> v2.ServerLiveResponse:
            return v2.ServerLiveResponse(live=True)

        async def ready(*_: Any) -> v2.ServerReadyResponse:
            return v2.ServerReadyResponse(ready=True)

        return self._handler(
            V2_SERVICE,
            [
                ("ModelInfer", self.model_infer, v2.ModelInferRequest, v2.ModelInferResponse),
                ("ModelReady", self.model_ready, v2.ModelReadyRequest, v2.ModelReadyResponse),
                ("ModelMetadata", self.v2_model_metadata, v2.ModelMetadataRequest, v2.ModelMetadataResponse),
                ("ServerLive", live, v2.ServerLiveRequest, v2.ServerLiveResponse),
                ("ServerReady", ready, v2.ServerReadyRequest, v2.ServerReadyResponse),
                ("ServerMetadata", _not_served, v2.ServerMetadataRequest, v2.ServerMetadataResponse),
                ("RepositoryIndex", _not_served, v2.RepositoryIndexRequest, v2.RepositoryIndexResponse),
            ],
        )

    async def model_infer(
        self, request: v2.ModelInferRequest, context: grpc.aio.ServicerContext
    ) -> v2.ModelInferResponse:
        """The walk with the request's ``model_name`` naming the model on every node."""
        call, _ = request_context(context)
        call = CallContext(call.metadata, request.model_name or None, call.deadline)
        answer = await self.walk.predict(self.predictor.graph, request, walk_request(call))
        return answer if isinstance(answer, v2.ModelInferResponse) else as_response(answer)

    async def model_ready(
        self, request: v2.ModelReadyRequest, context: grpc.aio.ServicerContext
    ) -> v2.ModelReadyResponse:
        node = self._node(request.name)
        call, _ = request_context(context)
        return await self.walk.call(
            node, "status", request, CallContext(call.metadata, request.name, call.deadline)
        )

    async def v2_model_metadata(
        self, request: v2.ModelMetadataRequest, context: grpc.aio.ServicerContext
    ) -> v2.ModelMetadataResponse:
        node = self._node(request.name)
        call, _ = request_context(context)
        return await self.walk.call(
            node, "metadata", request, CallContext(call.metadata, request.name, call.deadline)
        )


async def _not_served(request: Any, context: grpc.aio.ServicerContext) -> Any:
    raise Failure(
        grpc.StatusCode.UNIMPLEMENTED,
        "the executor serves only ModelInfer, ModelReady, "
        "ModelMetadata, ServerLive and ServerReady of inference.GRPCInferenceService",
    )


def graph_metadata_message(metadata: Mapping[str, Any]) -> pb.SeldonGraphMetadata:
    """``build_graph_metadata``'s dict as the protobuf: ``graphinputs``/``graphoutputs`` become
    ``inputs``/``outputs`` (a list of tensor metadata; anything else cannot be carried)."""

    def tensors(value: Any) -> list[Any]:
        return value if isinstance(value, list) else []

    message = {
        "name": metadata.get("name", ""),
        "models": metadata.get("models", {}),
        "inputs": tensors(metadata.get("graphinputs")),
        "outputs": tensors(metadata.get("graphoutputs")),
    }
    try:
        return json_format.ParseDict(message, pb.SeldonGraphMetadata(), ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise WalkError(f"graph metadata cannot be written as SeldonGraphMetadata: {error}") from None


def as_response(request: v2.ModelInferRequest) -> v2.ModelInferResponse:
    """A request that went through no node (a graph that calls nothing) answered as itself."""
    response = v2.ModelInferResponse(
        model_name=request.model_name,
        model_version=request.model_version,
        id=request.id,
        raw_output_contents=request.raw_input_contents,
    )
    for key, value in request.parameters.items():
        response.parameters[key].CopyFrom(value)
    for tensor in request.inputs:
        output = response.outputs.add(name=tensor.name, datatype=tensor.datatype, shape=tensor.shape)
        for key, value in tensor.parameters.items():
            output.parameters[key].CopyFrom(value)
        if tensor.HasField("contents"):
            output.contents.CopyFrom(tensor.contents)
    return response
