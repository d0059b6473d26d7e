"""The original's ``seldon_core.seldon_methods``: one function per endpoint, over seldon-wrapper's Dataplane.

``request`` is what the front door received: a dict or list (REST JSON; bytes or str with
PAYLOAD_PASSTHROUGH) or a protobuf message (gRPC). The answer comes back in the same form.
"""

from __future__ import annotations

from typing import Any

from seldon_core import _adapter
from seldon_wrapper import dataplane as _dataplane
from seldon_wrapper.codecs import seldon_json, seldon_proto
from seldon_wrapper.component import Component
from seldon_wrapper.metadata import compute_metadata
from seldon_wrapper.settings import Settings

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

PREDICT_METRIC_METHOD_TAG = _dataplane.PREDICT
FEEDBACK_METRIC_METHOD_TAG = _dataplane.FEEDBACK
INPUT_TRANSFORM_METRIC_METHOD_TAG = _dataplane.INPUT_TRANSFORM
OUTPUT_TRANSFORM_METRIC_METHOD_TAG = _dataplane.OUTPUT_TRANSFORM
ROUTER_METRIC_METHOD_TAG = _dataplane.ROUTER
AGGREGATE_METRIC_METHOD_TAG = _dataplane.AGGREGATE
HEALTH_METRIC_METHOD_TAG = _dataplane.HEALTH


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
    """``init_metadata()`` merged with ``MODEL_METADATA`` and validated; None when invalid."""
    settings = Settings.from_env()
    return compute_metadata(
        Component(user_model).init_metadata(),
        settings.model_metadata,
        settings.image_name,
        settings.image_version,
    )
