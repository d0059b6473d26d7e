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
from seldon_wrapper.errors import grpc_status, log_failure
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


def _call(rpc: str, operation: Callable[[Any], Any], request: Any, context: grpc.ServicerContext) -> Any:
    """Run one operation; a failure aborts the call with the status the error policy names."""
    try:
        return operation(request)
    except Exception as exc:
        log_failure(f"gRPC {rpc}", exc)
        code, details = grpc_status(exc)
        context.abort(getattr(grpc.StatusCode, code), details)


class SeldonServicer:
    """Implements every RPC of the seven services over one dataplane."""

    def __init__(self, dataplane: Dataplane) -> None:
        self.dataplane = dataplane
        metadata = dataplane.model_metadata
        self._metadata = prediction_pb2.SeldonModelMetadata()
        if metadata is not None:
            json_format.ParseDict(metadata, self._metadata, ignore_unknown_fields=True)

    def _message_call(
        self, rpc: str, operation: Callable[[Any, Any], Any], request: Any, context: grpc.ServicerContext
    ) -> Any:
        return _call(rpc, lambda message: operation(message, seldon_proto), request, context)

    def Predict(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 (gRPC names)
        return self._message_call("Predict", self.dataplane.predict, request, context)

    def TransformInput(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._message_call("TransformInput", self.dataplane.transform_input, request, context)

    def TransformOutput(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._message_call("TransformOutput", self.dataplane.transform_output, request, context)

    def Route(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._message_call("Route", self.dataplane.route, request, context)

    def Aggregate(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._message_call("Aggregate", self.dataplane.aggregate, request, context)

    def SendFeedback(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return _call("SendFeedback", self.dataplane.send_feedback, request, context)

    def Metadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._metadata

    def ModelMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._metadata

    def GraphMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "GraphMetadata not available on the Model level.")


def add_to_server(servicer: SeldonServicer, server: grpc.Server) -> None:
    for register in _REGISTER:
        register(servicer, server)
