"""The original's ``seldon_core.wrapper``: the REST app, the gRPC servicer and server, the metrics app.

Each factory builds seldon-wrapper's own front door over a Dataplane for the user object, with
settings read from the environment when it is called. The module constants keep the original's
names; a test that patches one sees the effect when the environment does not set the variable.
"""

from __future__ import annotations

import logging
import os
from concurrent import futures  # noqa: F401 - a name the original's module had
from typing import Any

import grpc
from flask import Flask, Response, request, send_from_directory  # noqa: F401
from grpc_reflection.v1alpha import reflection  # noqa: F401 - a name the original's module had

import seldon_core.seldon_methods  # noqa: F401 - the original reached its functions through it
from seldon_core import _adapter
from seldon_core.env_utils import get_model_name
from seldon_core.flask_utils import (  # noqa: F401 - names the original's module imported
    ANNOTATION_GRPC_MAX_MSG_SIZE,
    SeldonMicroserviceException,
    get_request,
    jsonify,
)
from seldon_core.proto import prediction_pb2, prediction_pb2_grpc  # noqa: F401
from seldon_core.utils import (  # noqa: F401 - names the original's module imported
    getenv_as_bool,
    json_to_feedback,
    json_to_seldon_model_metadata,
    seldon_message_to_json,
)
from seldon_wrapper.grpc import v1
from seldon_wrapper.grpc.server import build_server, mark_serving
from seldon_wrapper.rest.app import create_app
from seldon_wrapper.settings import Settings, env_bool

logger = logging.getLogger(__name__)

__all__ = [
    "ANNOTATION_GRPC_MAX_MSG_SIZE",
    "METRICS_ENDPOINT",
    "PAYLOAD_PASSTHROUGH",
    "PRED_UNIT_ID",
    "SeldonModelGRPC",
    "get_grpc_server",
    "get_metrics_microservice",
    "get_rest_microservice",
]

PRED_UNIT_ID = get_model_name("0")
METRICS_ENDPOINT = os.environ.get("PREDICTIVE_UNIT_METRICS_ENDPOINT", "/metrics")
PAYLOAD_PASSTHROUGH = getenv_as_bool("PAYLOAD_PASSTHROUGH", default=False)


def _routing_key() -> str | None:
    """The feedback routing key: PREDICTIVE_UNIT_ID when set now, else PRED_UNIT_ID."""
    return None if os.environ.get("PREDICTIVE_UNIT_ID") else PRED_UNIT_ID


def _dataplane(user_model: Any, seldon_metrics: Any, **overrides: Any) -> _adapter.LegacyDataplane:
    return _adapter.make_dataplane(user_model, seldon_metrics, routing_key=_routing_key(), **overrides)


def get_rest_microservice(user_model: Any, seldon_metrics: Any = None) -> Flask:
    """The Flask app of the v1 REST API for ``user_model`` (``.test_client()`` works in-process).

    The model metadata (``init_metadata``) is computed here; ``load()`` is not called, as in the original.
    """
    passthrough = PAYLOAD_PASSTHROUGH or env_bool(os.environ, "PAYLOAD_PASSTHROUGH", False)
    return create_app(_dataplane(user_model, seldon_metrics, payload_passthrough=passthrough))


def _set_flask_app_configs(app: Flask) -> None:
    """Copy the ``FLASK_<KEY>`` environment booleans (the original's allowed keys) into ``app.config``."""
    for key, value in Settings.from_env().flask_config.items():
        app.config[key] = value


class SeldonModelGRPC:
    """The servicer of every ``seldon.protos`` service, callable in-process.

    With a real gRPC ``context`` an error aborts the call with a status, as the server does; with
    ``context=None`` (tests calling ``Predict(request, None)``) the exception itself is raised.
    """

    def __init__(self, user_model: Any, seldon_metrics: Any = None) -> None:
        self.user_model = user_model
        self.seldon_metrics = seldon_metrics
        self._dataplane = _dataplane(user_model, seldon_metrics)
        self._servicer = v1.SeldonServicer(self._dataplane)

    def serve(self, rpc: str, request: Any, context: Any) -> Any:  # noqa: F811
        if context is None:
            return v1.dispatch(self._dataplane, rpc, request)
        return getattr(self._servicer, rpc)(request, context)

    def Metadata(self, request_grpc: Any, context: Any) -> Any:  # noqa: N802
        return self._servicer.Metadata(request_grpc, context)

    def ModelMetadata(self, request_grpc: Any, context: Any) -> Any:  # noqa: N802
        return self._servicer.ModelMetadata(request_grpc, context)

    def GraphMetadata(self, request_grpc: Any, context: Any) -> Any:  # noqa: N802
        if context is None:
            raise NotImplementedError("GraphMetadata not available on the Model level.")
        return self._servicer.GraphMetadata(request_grpc, context)


# Predict, SendFeedback, TransformInput, TransformOutput, Route, Aggregate.
for _rpc in v1.DATA_RPCS:
    setattr(SeldonModelGRPC, _rpc, v1.rpc_method(_rpc))


def get_grpc_server(
    user_model: Any,
    seldon_metrics: Any = None,
    annotations: dict | None = None,
    trace_interceptor: Any = None,
    num_threads: int = 1,
) -> grpc.Server:
    """A gRPC server with every ``seldon.protos`` service (plus V2, health and reflection), not started.

    ``annotations`` may set ``seldon.io/grpc-max-message-size``. The caller adds a port and starts
    it. ``trace_interceptor`` (an OpenTracing interceptor in the original) is not supported:
    tracing is OpenTelemetry, enabled with ``TRACING=1``.
    """
    if trace_interceptor is not None:
        logger.warning("trace_interceptor is ignored: seldon-wrapper traces with OpenTelemetry (TRACING=1)")
    dataplane = _dataplane(
        user_model, seldon_metrics, annotations=dict(annotations or {}), grpc_threads=num_threads
    )
    server, health, _, _ = build_server(dataplane, dataplane.settings)
    mark_serving(health)
    return server


def get_metrics_microservice(seldon_metrics: Any) -> Flask:
    """A Flask app serving ``seldon_metrics``' Prometheus exposition at PREDICTIVE_UNIT_METRICS_ENDPOINT."""
    endpoint = os.environ.get("PREDICTIVE_UNIT_METRICS_ENDPOINT") or METRICS_ENDPOINT
    app = Flask(__name__, static_folder=None)

    def metrics() -> Response:
        body, content_type = seldon_metrics.generate_metrics()
        return Response(body, content_type=content_type)

    app.add_url_rule(endpoint, "metrics", metrics, methods=["GET"])
    return app
