"""The original's ``seldon_core.user_model``: the user-model contract and the ``client_*`` helpers.

``SeldonComponent``, ``SeldonResponse`` and ``SeldonNotImplementedError`` are seldon-wrapper's own
classes. The helpers call the user's methods the way the server does (through
``seldon_wrapper.component.Component``). Importing this module loads neither Flask nor grpc.
"""

from __future__ import annotations

# inspect, json, os and the typing names: names the original's module had.
import inspect  # noqa: F401
import json  # noqa: F401
import logging
import os  # noqa: F401
from typing import Any, Dict, Iterable, List, Tuple, Union  # noqa: F401, UP035

import numpy as np

from seldon_core import _adapter
from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.metrics import SeldonMetrics, validate_metrics
from seldon_core.proto import prediction_pb2  # noqa: F401
from seldon_wrapper.component import Component, SeldonComponent, SeldonResponse
from seldon_wrapper.errors import SeldonNotImplementedError

logger = logging.getLogger(__name__)

__all__ = [
    "INCLUDE_METRICS_IN_CLIENT_RESPONSE",
    "SeldonComponent",
    "SeldonMetrics",
    "SeldonMicroserviceException",
    "SeldonNotImplementedError",
    "SeldonResponse",
    "client_aggregate",
    "client_class_names",
    "client_custom_metrics",
    "client_custom_tags",
    "client_feature_names",
    "client_health_status",
    "client_predict",
    "client_route",
    "client_send_feedback",
    "client_transform_input",
    "client_transform_output",
    "validate_metrics",
]

# Read from the environment at import, as the original; patching it takes effect at once.
INCLUDE_METRICS_IN_CLIENT_RESPONSE = _adapter.ENV_INCLUDE_METRICS


def client_custom_tags(user_model: Any) -> dict:
    """The user's ``tags()``, or ``{}``."""
    return Component(user_model).custom_tags()


def client_class_names(user_model: Any, predictions: Any) -> list:
    """Output column names: the user's ``class_names``, else ``t:0..``; ``[]`` for 1-D output."""
    shape = np.shape(predictions)
    if len(shape) > 1:
        return Component(user_model).class_names(shape[1])
    return []


def client_feature_names(user_model: Any, original: Any) -> Any:
    """The user's ``feature_names()``, else ``original``."""
    feature_names = getattr(user_model, "feature_names", None)
    if not callable(feature_names):
        return original
    try:
        return feature_names()
    except SeldonNotImplementedError:
        return original


def client_predict(user_model: Any, features: Any, feature_names: Any, **kwargs: Any) -> SeldonResponse:
    """``predict(X, names[, meta=])``; ``SeldonResponse([])`` without one."""
    return Component(user_model).predict.call(features, feature_names, kwargs.get("meta"), default=[])


def client_transform_input(
    user_model: Any, features: Any, feature_names: Any, **kwargs: Any
) -> SeldonResponse:
    """``transform_input(X, names[, meta=])``; the features unchanged without one."""
    operation = Component(user_model).transform_input
    return operation.call(features, feature_names, kwargs.get("meta"), default=features)


def client_transform_output(
    user_model: Any, features: Any, feature_names: Any, **kwargs: Any
) -> SeldonResponse:
    """``transform_output(X, names[, meta=])``; the features unchanged without one."""
    operation = Component(user_model).transform_output
    return operation.call(features, feature_names, kwargs.get("meta"), default=features)


def client_custom_metrics(
    user_model: Any, seldon_metrics: Any, method: str, runtime_metrics: list | None = None
) -> list:
    """Validate and record runtime then static metrics; return what the response shows.

    Raises SeldonMicroserviceException (500, MICROSERVICE_BAD_METRIC) for invalid metrics; returns
    ``[]`` when INCLUDE_METRICS_IN_CLIENT_RESPONSE is off.
    """
    dataplane = _adapter.make_dataplane(user_model, seldon_metrics, with_metadata=False)
    return dataplane.custom_metrics(method, runtime_metrics if runtime_metrics is not None else [])


def client_send_feedback(
    user_model: Any, features: Any, feature_names: Any, reward: float, truth: Any, routing: Any
) -> SeldonResponse:
    """``send_feedback(features, names, reward, truth, routing=routing)``; SeldonResponse(None) if absent."""
    operation = Component(user_model).send_feedback
    return operation.call(features, feature_names, reward, truth, routing, default=None)


def client_route(user_model: Any, features: Any, feature_names: Any, **kwargs: Any) -> SeldonResponse:
    """``route(X, names[, meta=])``; raises SeldonNotImplementedError("Route not defined") without one."""
    operation = Component(user_model).route
    if operation.high is None:
        raise SeldonNotImplementedError("Route not defined")
    return SeldonResponse.create(operation.high(features, feature_names, kwargs.get("meta")))


def client_aggregate(user_model: Any, features_list: list, feature_names_list: list) -> SeldonResponse:
    """``aggregate(features_list, names_list)``; raises SeldonNotImplementedError without one."""
    operation = Component(user_model).aggregate
    if operation.high is None:
        raise SeldonNotImplementedError("Aggregate not defined")
    return SeldonResponse.create(operation.high(features_list, feature_names_list))


def client_health_status(user_model: Any) -> Any:
    """The user's ``health_status()``; "healthy" without one, "not implemented - assuming healthy"
    for the SeldonComponent default."""
    health_status = Component(user_model).health_status
    if health_status is None:
        return "healthy"
    try:
        return health_status()
    except SeldonNotImplementedError:
        return "not implemented - assuming healthy"
