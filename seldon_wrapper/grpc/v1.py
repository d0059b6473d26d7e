"""The seven ``seldon.protos`` services, all served by one servicer mapped to the dataplane.

Every service is registered whatever ``--service-type`` says, as in the original.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import json_format

from seldon_wrapper.codecs import seldon_proto
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException, grpc_status_name
from seldon_wrapper.proto import prediction_pb2, prediction_pb2_grpc

logger = logging.getLogger(__name__)

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


def _call(operation: Callable[[Any], Any], request: Any, context: grpc.ServicerContext) -> Any:
    """Run one operation; errors become a gRPC status with a message that names the problem."""
    try:
        return operation(request)
    except SeldonMicroserviceException as exc:
        code = getattr(grpc.StatusCode, grpc_status_name(exc))
        if code is grpc.StatusCode.INVALID_ARGUMENT:
            logger.info("gRPC call rejected: %s", exc.message.splitlines()[0][:200] if exc.message else "")
        else:
            logger.error("gRPC call failed: %s (%s)", exc.message, exc.reason)
        context.abort(code, exc.message)
    except Exception as exc:
        logger.error("gRPC call failed: %s: %s", type(exc).__name__, exc)
        logger.debug("Traceback of the failure", exc_info=exc)
        context.abort(grpc.StatusCode.UNKNOWN, f"Exception calling application: {exc}")


class SeldonServicer:
    """Implements every RPC of the seven services over one dataplane."""

    def __init__(self, dataplane: Dataplane) -> None:
        self.dataplane = dataplane
        metadata = dataplane.model_metadata
        self._metadata = prediction_pb2.SeldonModelMetadata()
        if metadata is not None:
            json_format.ParseDict(metadata, self._metadata, ignore_unknown_fields=True)

    def Predict(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 (gRPC names)
        return _call(lambda r: self.dataplane.predict(r, seldon_proto), request, context)

    def TransformInput(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return _call(lambda r: self.dataplane.transform_input(r, seldon_proto), request, context)

    def TransformOutput(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return _call(lambda r: self.dataplane.transform_output(r, seldon_proto), request, context)

    def Route(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return _call(lambda r: self.dataplane.route(r, seldon_proto), request, context)

    def Aggregate(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return _call(lambda r: self.dataplane.aggregate(r, seldon_proto), request, context)

    def SendFeedback(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return _call(self.dataplane.send_feedback, request, context)

    def Metadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._metadata

    def ModelMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._metadata

    def GraphMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "GraphMetadata not available on the Model level.")


def add_to_server(servicer: SeldonServicer, server: grpc.Server) -> None:
    for register in _REGISTER:
        register(servicer, server)
