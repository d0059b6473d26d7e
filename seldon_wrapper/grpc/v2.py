"""V2 gRPC front door: ``inference.GRPCInferenceService`` over the V2 adapter.

Raw outputs are answered iff the request used raw inputs (tritonclient always does and can
only decode raw numeric outputs; v1-executor chaining copies only typed contents).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from seldon_wrapper.codecs import v2
from seldon_wrapper.errors import SeldonMicroserviceException, grpc_status, log_failure
from seldon_wrapper.proto import grpc_predict_v2_pb2 as pb
from seldon_wrapper.proto import grpc_predict_v2_pb2_grpc as pb_grpc
from seldon_wrapper.v2_adapter import V2Adapter

SERVICE_NAME = "inference.GRPCInferenceService"


def _call(handler: Callable[[], Any], context: grpc.ServicerContext, rpc: str) -> Any:
    try:
        return handler()
    except Exception as exc:
        log_failure(f"V2 gRPC {rpc}", exc)
        code, details = grpc_status(exc, v2=True)
        context.abort(getattr(grpc.StatusCode, code), details)


class InferenceServicer(pb_grpc.GRPCInferenceServiceServicer):
    """The V2 RPCs for the one model this server holds."""

    def __init__(self, adapter: V2Adapter) -> None:
        self.adapter = adapter

    def ServerLive(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 (gRPC names)
        return pb.ServerLiveResponse(live=True)

    def ServerReady(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return pb.ServerReadyResponse(ready=self.adapter.serving)

    def ModelReady(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        try:
            self.adapter.check_model(request.name, request.version)
        except SeldonMicroserviceException:
            return pb.ModelReadyResponse(ready=False)
        return pb.ModelReadyResponse(ready=self.adapter.serving)

    def ServerMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        meta = self.adapter.server_metadata()
        return pb.ServerMetadataResponse(
            name=meta["name"], version=meta["version"], extensions=meta["extensions"]
        )

    def ModelMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def handler() -> Any:
            self.adapter.check_model(request.name, request.version)
            meta = self.adapter.metadata
            response = pb.ModelMetadataResponse(
                name=meta["name"], versions=meta["versions"], platform=meta["platform"]
            )
            for kind in ("inputs", "outputs"):
                for tensor in meta[kind]:
                    getattr(response, kind).add(
                        name=tensor["name"], datatype=tensor["datatype"], shape=tensor["shape"]
                    )
            return response

        return _call(handler, context, "ModelMetadata")

    def ModelInfer(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def handler() -> Any:
            adapter = self.adapter
            adapter.check_model(request.model_name, request.model_version)
            if not adapter.ready:
                raise SeldonMicroserviceException(f"Model {request.model_name} is not ready yet.", 503)
            decoded = v2.decode_proto_request(request)
            outputs, parameters = adapter.infer(decoded)
            return v2.encode_proto_response(
                pb.ModelInferResponse(),
                outputs,
                adapter.model_name,
                adapter.response_version(request.model_version),
                decoded.id,
                parameters,
                decoded.binary,
            )

        return _call(handler, context, "ModelInfer")

    def RepositoryIndex(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        response = pb.RepositoryIndexResponse()
        for entry in self.adapter.repository_index():
            if request.ready and entry["state"] != "READY":
                continue
            response.models.add(
                name=entry["name"],
                version=entry.get("version", ""),
                state=entry["state"],
                reason=entry["reason"],
            )
        return response


def add_to_server(adapter: V2Adapter, server: grpc.Server) -> None:
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(InferenceServicer(adapter), server)
