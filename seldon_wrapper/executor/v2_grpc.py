"""The V2 (Open Inference) protocol over gRPC: its messages for the walk and its node calls
(spec 3.5, 3.8, 4.5).

Each node is asked ``inference.GRPCInferenceService/ModelInfer``; between hops an answer
(``ModelInferResponse``) becomes the next request: its outputs turn into inputs, raw output
contents into raw input contents, ``id`` and ``parameters`` are kept. The model name is set per
call: the client's ``model_name`` when it gave one (it names the model on every node, as in the
original), else the node's name. V2 has no route or aggregate call; a router or combiner in a
V2 graph is refused at the call with a message saying so (the original had no sensible
behaviour there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc

from seldon_wrapper.executor import walk
from seldon_wrapper.executor.graph import Node
from seldon_wrapper.executor.grpc_client import Channels, GrpcFailure, call_context
from seldon_wrapper.executor.walk import WalkError
from seldon_wrapper.proto import grpc_predict_v2_pb2 as v2

SERVICE = "/inference.GRPCInferenceService/"
INFER = SERVICE + "ModelInfer"
READY = SERVICE + "ModelReady"
METADATA = SERVICE + "ModelMetadata"
#: The calls a V2 node gets, by the walk's purpose.
INFER_PURPOSES = frozenset({walk.PREDICT, walk.TRANSFORM_INPUT, walk.TRANSFORM_OUTPUT})


def unsupported(node_name: str, purpose: str) -> WalkError:
    return _refused(f"node {node_name!r} would be asked to {purpose}")


def _refused(where: str) -> WalkError:
    message = f"routers and combiners are not supported over V2 gRPC ({where})"
    return WalkError(message, status=501, payload=GrpcFailure(grpc.StatusCode.UNIMPLEMENTED, message))


class V2ProtoPayloads:
    """``Payloads`` for V2 over gRPC."""

    def chain(self, message: v2.ModelInferRequest | v2.ModelInferResponse) -> v2.ModelInferRequest:
        """A response as the next hop's request; a request passes unchanged."""
        if isinstance(message, v2.ModelInferRequest):
            return message
        if not isinstance(message, v2.ModelInferResponse):
            raise WalkError("Failed to convert V2 response so it could be chained to new input")
        request = v2.ModelInferRequest(id=message.id, raw_input_contents=message.raw_output_contents)
        _copy_parameters(message.parameters, request.parameters)
        for output in message.outputs:
            tensor = request.inputs.add(name=output.name, datatype=output.datatype, shape=output.shape)
            _copy_parameters(output.parameters, tensor.parameters)
            if output.HasField("contents"):
                tensor.contents.CopyFrom(output.contents)
        return request

    def aggregate_request(self, messages: list[Any]) -> Any:
        raise _refused("a combiner would aggregate its children's answers here")

    def routes(self, answer: Any) -> list[int]:
        raise _refused("a router's answer would be read here")  # not reached: the call is refused

    def feedback_route(self, feedback: Any, node_name: str) -> int:
        return walk.ALL_CHILDREN  # V2 has no feedback

    def inject_routing(self, message: Any, routing: Mapping[str, int]) -> Any:
        return message  # a V2 message has no meta to carry the routing


def _copy_parameters(source: Any, target: Any) -> None:
    for key, value in source.items():
        target[key].CopyFrom(value)


class V2GrpcNodeClient(Channels):
    """``NodeClient`` for V2 over gRPC: ModelInfer for predict and the transforms, ModelReady
    for status, ModelMetadata for metadata, each a grpc.aio call (see ``grpc_client``).
    ``context``: a ``CallContext`` (metadata and the model-name override) or the metadata pairs
    alone."""

    async def __call__(self, node: Node, purpose: str, message: Any, context: Any) -> Any:
        call = call_context(context)
        name = call.model_name or node.name
        if purpose in INFER_PURPOSES:
            if not isinstance(message, v2.ModelInferRequest):
                raise WalkError(f"node {node.name!r}: a V2 call needs a ModelInferRequest")
            return await self.invoke(
                node, name, INFER, _named(message, name), call, v2.ModelInferResponse.FromString
            )
        if purpose == "status":
            request = v2.ModelReadyRequest(name=name)
            if isinstance(message, v2.ModelReadyRequest):
                request.version = message.version
            return await self.invoke(
                node, name, READY, request, call, v2.ModelReadyResponse.FromString, _serialize
            )
        if purpose == "metadata":
            request = v2.ModelMetadataRequest(name=name)
            if isinstance(message, v2.ModelMetadataRequest):
                request.version = message.version
            return await self.invoke(
                node, name, METADATA, request, call, v2.ModelMetadataResponse.FromString, _serialize
            )
        if purpose in (walk.ROUTE, walk.AGGREGATE):
            raise unsupported(node.name, purpose)
        raise WalkError(f"no V2 gRPC method for {purpose!r}")


def _serialize(message: Any) -> bytes:
    return message.SerializeToString()


def _named(request: v2.ModelInferRequest, name: str) -> bytes:
    """``request`` serialised with ``model_name`` = ``name``, without copying the message:
    protobuf keeps the last occurrence of a singular field, so the name is appended as one more
    field 1 (the same request may be on its way to several children at once)."""
    data = request.SerializeToString()
    if request.model_name == name:
        return data
    encoded = name.encode()
    return data + b"\x0a" + _varint(len(encoded)) + encoded


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
