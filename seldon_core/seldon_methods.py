"""The original's ``seldon_core.seldon_methods``: one function per endpoint, over seldon-wrapper's Dataplane.

``request`` is what the front door received: a dict or list (REST JSON; bytes or str with
PAYLOAD_PASSTHROUGH) or a protobuf message (gRPC). The answer comes back in the same form.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Dict, List, Tuple, Union  # noqa: F401, UP035 - the original's module names

import numpy as np  # noqa: F401 - a name the original's module had
from google.protobuf import json_format  # noqa: F401 - a name the original's module had

from seldon_core import _adapter
from seldon_core._lazy import lazy_attributes
from seldon_core.flask_utils import SeldonMicroserviceException  # noqa: F401
from seldon_core.metadata import SeldonInvalidMetadataError, validate_model_metadata
from seldon_core.metrics import (  # noqa: F401
    AGGREGATE_METRIC_METHOD_TAG,
    FEEDBACK_METRIC_METHOD_TAG,
    HEALTH_METRIC_METHOD_TAG,
    INPUT_TRANSFORM_METRIC_METHOD_TAG,
    OUTPUT_TRANSFORM_METRIC_METHOD_TAG,
    PREDICT_METRIC_METHOD_TAG,
    ROUTER_METRIC_METHOD_TAG,
    SeldonMetrics,
)
from seldon_core.proto import prediction_pb2  # noqa: F401
from seldon_core.user_model import (  # noqa: F401
    SeldonNotImplementedError,
    SeldonResponse,
    client_aggregate,
    client_custom_metrics,
    client_health_status,
    client_predict,
    client_route,
    client_send_feedback,
    client_transform_input,
    client_transform_output,
)
from seldon_core.utils import (  # noqa: F401
    construct_response,
    construct_response_json,
    extract_feedback_request_parts,
    extract_request_parts,
    extract_request_parts_json,
    getenv_as_bool,
    json_to_seldon_message,
    seldon_message_to_json,
)
from seldon_wrapper.codecs import seldon_json, seldon_proto
from seldon_wrapper.component import Component
from seldon_wrapper.metadata import env_metadata

logger = logging.getLogger(__name__)

__all__ = [
    "INCLUDE_METRICS_IN_CLIENT_RESPONSE",
    "aggregate",
    "handle_raw_custom_metrics",
    "health_status",
    "init_metadata",
    "predict",
    "route",
    "send_feedback",
    "transform_input",
    "transform_output",
]

# Read from the environment at import, as the original; patching it takes effect at once.
INCLUDE_METRICS_IN_CLIENT_RESPONSE = _adapter.ENV_INCLUDE_METRICS

def _dataplane_for(user_model: Any, seldon_metrics: Any, **kwargs: Any) -> _adapter.LegacyDataplane:
    return _adapter.make_dataplane(user_model, seldon_metrics, with_metadata=False, **kwargs)


def _answer(operation: Any, request: Any) -> Any:
    codec = _adapter.codec_for(request)
    answer = operation(request, codec)
    return _adapter.plain_json(answer) if codec is seldon_json else answer


def handle_raw_custom_metrics(msg: Any, seldon_metrics: Any, is_proto: bool, method: str) -> None:
    """Record the custom metrics in a raw response's meta.

    They are removed from the response unless INCLUDE_METRICS_IN_CLIENT_RESPONSE.
    """
    codec = seldon_proto if is_proto else seldon_json
    metrics = codec.raw_metrics(msg, keep=_adapter.include_metrics())
    if metrics:
        _adapter.recorder_for(seldon_metrics).record(metrics, method)


def predict(user_model: Any, request: Any, seldon_metrics: Any) -> Any:
    return _answer(_dataplane_for(user_model, seldon_metrics).predict, request)


def transform_input(user_model: Any, request: Any, seldon_metrics: Any) -> Any:
    return _answer(_dataplane_for(user_model, seldon_metrics).transform_input, request)


def transform_output(user_model: Any, request: Any, seldon_metrics: Any) -> Any:
    return _answer(_dataplane_for(user_model, seldon_metrics).transform_output, request)


def route(user_model: Any, request: Any, seldon_metrics: Any) -> Any:
    return _answer(_dataplane_for(user_model, seldon_metrics).route, request)


def aggregate(user_model: Any, request: Any, seldon_metrics: Any) -> Any:
    """``request`` is a SeldonMessageList, a JSON list of messages, or ``{"seldonMessages": [...]}``."""
    return _answer(_dataplane_for(user_model, seldon_metrics).aggregate, request)


def send_feedback(user_model: Any, request: Any, predictive_unit_id: str, seldon_metrics: Any) -> Any:
    """A ``Feedback`` proto -> SeldonMessage proto; ``predictive_unit_id`` keys ``response.meta.routing``.

    A Feedback JSON dict is accepted too, and answered with a dict.
    """
    dataplane = _dataplane_for(user_model, seldon_metrics, routing_key=predictive_unit_id)
    return dataplane.send_feedback(request, seldon_json if isinstance(request, dict) else seldon_proto)


def health_status(user_model: Any, seldon_metrics: Any) -> Any:
    """The REST ``/health/status`` answer (a dict, or what ``health_status_raw`` returned)."""
    return _adapter.plain_json(_dataplane_for(user_model, seldon_metrics).health_status(seldon_json))


def init_metadata(user_model: Any) -> dict | None:
    """``init_metadata()`` merged with ``MODEL_METADATA`` and validated; None when invalid.

    ``validate_model_metadata`` and ``os`` are looked up through this module at call time.
    """
    meta = {**Component(user_model).init_metadata(), **env_metadata(os.environ.get("MODEL_METADATA"))}
    try:
        return validate_model_metadata(meta)
    except SeldonInvalidMetadataError as exc:
        logger.error("%s", exc)
        return None


# ``yaml`` (a name the original's module had), imported on first read.
__getattr__ = lazy_attributes(__name__, globals(), {"yaml": ("yaml", None)})
