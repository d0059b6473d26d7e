"""The seven ``seldon.protos`` services, all served by one servicer mapped to the dataplane.

Every service is registered whatever ``--service-type`` says, as in the original.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import json_format

from seldon_wrapper.codecs import seldon_proto
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import INTERNAL_ERROR, SeldonMicroserviceException, grpc_status, log_failure
from seldon_wrapper.proto import prediction_pb2, prediction_pb2_grpc

SERVICE_NAMES = tuple(
    f"seldon.protos.{name}"
    for name in ("Generic", "Model", "Router", "Transformer", "OutputTransformer", "Combiner", "Seldon")
)

_REGISTER = (
    prediction_pb2_grpc.add_GenericServicer_to_server,
    prediction_pb2_grpc.add_ModelServicer_to_server,
    prediction_pb2_grpc.add_RouterServicer_to_server,
    prediction_pb2_grpc.add_TransformerServicer_to_server,
    prediction_pb2_grpc.add_OutputTransformerServicer_to_server,
    prediction_pb2_grpc.add_CombinerServicer_to_server,
    prediction_pb2_grpc.add_SeldonServicer_to_server,
)


# RPC name -> the dataplane operation it runs with the protobuf codec.
_OPERATIONS = {
    "Predict": "predict",
    "TransformInput": "transform_input",
    "TransformOutput": "transform_output",
    "Route": "route",
    "Aggregate": "aggregate",
    "SendFeedback": "send_feedback",
}


def dispatch(dataplane: Dataplane, rpc: str, request: Any) -> Any:
    """Run one RPC's operation; failures are raised (the servicer turns them into statuses).

    A ``*_raw`` method answers as it likes; on gRPC only a SeldonMessage can go back, so any
    other answer is a clear INTERNAL error here rather than grpcio's "Failed to serialize
    response!" and a traceback in the log.
    """
    answer = getattr(dataplane, _OPERATIONS[rpc])(request, seldon_proto)
    if not isinstance(answer, prediction_pb2.SeldonMessage):
        raise SeldonMicroserviceException(
            f"{rpc} on gRPC must answer a SeldonMessage; the model's raw method returned "
            f"{type(answer).__name__}",
            status_code=500,
            reason=INTERNAL_ERROR,
        )
    return answer


def rpc_method(rpc: str) -> Callable[[Any, Any, Any], Any]:
    """The method ``rpc(request, context)`` of a servicer class, which runs ``self.serve(rpc, ...)``."""

    def method(self: Any, request: Any, context: Any) -> Any:
        return self.serve(rpc, request, context)

    method.__name__ = method.__qualname__ = rpc
    return method


class SeldonServicer:
    """Implements every RPC of the seven services over one dataplane."""

    def __init__(self, dataplane: Dataplane) -> None:
        self.dataplane = dataplane
        metadata = dataplane.model_metadata
        self._metadata = prediction_pb2.SeldonModelMetadata()
        if metadata is not None:
            json_format.ParseDict(metadata, self._metadata, ignore_unknown_fields=True)

    def serve(self, rpc: str, request: Any, context: grpc.ServicerContext) -> Any:
        """Run one RPC; a failure aborts the call with the status the error policy names."""
        try:
            return dispatch(self.dataplane, rpc, request)
        except Exception as exc:
            log_failure(f"gRPC {rpc}", exc)
            code, details = grpc_status(exc)
            context.abort(getattr(grpc.StatusCode, code), details)

    def Metadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._metadata

    def ModelMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._metadata

    def GraphMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "GraphMetadata not available on the Model level.")


#: The RPCs that run a dataplane operation (the others answer metadata).
DATA_RPCS = tuple(_OPERATIONS)
for _rpc in DATA_RPCS:
    setattr(SeldonServicer, _rpc, rpc_method(_rpc))


def add_to_server(servicer: SeldonServicer, server: grpc.Server) -> None:
    for register in _REGISTER:
        register(servicer, server)
