"""The pre-Core ``io.seldon.api.rpc.Classifier`` service over the V0 adapter (docs/legacy-v0.md).

The Seldon server called a scorer's ``Classifier/Predict`` with the features packed in an Any of
the scorer's own message type, which only the user's ``getData(request)`` can read. What it
returns (a DataFrame, a dict of feature name to number, or a list/array) is read as one row of
features; the answer holds one ``ClassificationResult`` per class.

Statuses: a client mistake (a 4xx, which includes a failing ``getData``: the Any is the
client's) is INVALID_ARGUMENT, a class without ``getData`` or ``predict`` UNIMPLEMENTED, and
everything else INTERNAL, each with the error's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
import numpy as np

from seldon_wrapper.codecs import v0 as codec
from seldon_wrapper.errors import SeldonMicroserviceException, log_failure
from seldon_wrapper.proto import seldon_v0_pb2 as pb
from seldon_wrapper.proto import seldon_v0_pb2_grpc as pb_grpc
from seldon_wrapper.v0_adapter import V0Adapter

SERVICE_NAME = "io.seldon.api.rpc.Classifier"


def features_from(data: Any) -> Mapping[str, Any] | np.ndarray:
    """What ``getData`` returned, as ``V0Adapter.classify`` takes it: the first row of a
    DataFrame (duck-typed, so pandas is never imported) or a dict as a feature mapping, a list
    or array as one row of numbers. A 400 for no row or non-numbers, a 500 for another type."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        rows = data.to_dict(orient="records")
        if not rows:
            raise codec.bad_request("getData returned a DataFrame without rows")
        data = rows[0]
    if isinstance(data, Mapping):
        return {str(name): _native(value) for name, value in data.items()}
    if isinstance(data, (list, tuple, np.ndarray)):
        try:
            row = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError):
            raise codec.bad_request(f"Features must be numbers, got {data!r}") from None
        if row.ndim == 2 and row.shape[0] > 0:
            row = row[0]
        if row.ndim != 1 or row.size == 0:
            raise codec.bad_request(f"Expected one row of features, got shape {list(row.shape)}")
        return row
    raise SeldonMicroserviceException(
        f"getData must return a DataFrame, a dict or a list of features, got {type(data).__name__}", 500
    )


def _native(value: Any) -> Any:
    """numpy scalars (a DataFrame's float32 column) as the Python numbers they hold."""
    return value.item() if isinstance(value, np.generic) else value


def status(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status of a failed Predict: 4xx INVALID_ARGUMENT, 501 UNIMPLEMENTED, else INTERNAL."""
    if isinstance(exc, SeldonMicroserviceException):
        if exc.status_code == 501:
            return grpc.StatusCode.UNIMPLEMENTED, exc.message
        if 400 <= exc.status_code < 500:
            return grpc.StatusCode.INVALID_ARGUMENT, exc.message
        return grpc.StatusCode.INTERNAL, exc.message
    return grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}"


def reply(puid: str, model_name: str, predictions: list[codec.Prediction]) -> Any:
    """The ClassificationReply of one classified row."""
    return pb.ClassificationReply(
        meta=pb.ClassificationReplyMeta(puid=puid, modelName=model_name),
        predictions=[
            pb.ClassificationResult(prediction=p.score, predictedClass=p.class_id, confidence=p.confidence)
            for p in predictions
        ],
    )


class ClassifierServicer(pb_grpc.ClassifierServicer):
    """``Classifier/Predict`` for the one class this server holds."""

    def __init__(self, adapter: V0Adapter) -> None:
        self.adapter = adapter

    def Predict(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 (gRPC names)
        adapter = self.adapter
        try:
            features = features_from(adapter.unpack(request))
            predictions = adapter.classify(features)
        except Exception as exc:
            log_failure("gRPC Classifier/Predict", exc)
            context.abort(*status(exc))
        return reply(adapter.puid(request.meta.puid), adapter.model_name, predictions)


def add_to_server(adapter: V0Adapter, server: grpc.Server) -> None:
    pb_grpc.add_ClassifierServicer_to_server(ClassifierServicer(adapter), server)
