"""What every ``seldon_core`` adapter shares: a seldon-wrapper Dataplane for a user object.

The original's functions take ``(user_model, request, seldon_metrics)``; ours are methods of a
Dataplane built over a Component. This module builds that Dataplane with settings read from
the environment at call time, adapts whatever ``seldon_metrics`` object the caller passed into a
metrics recorder, and reads the legacy ``INCLUDE_METRICS_IN_CLIENT_RESPONSE`` module flags at
call time so that tests which patch them see the effect. No Flask and no grpc here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from google.protobuf.message import Message

from seldon_core.metrics import SeldonMetrics
from seldon_wrapper.codecs import seldon_json, seldon_proto
from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.metrics import NullRecorder, PrometheusRecorder
from seldon_wrapper.settings import Settings

# The original read INCLUDE_METRICS_IN_CLIENT_RESPONSE once, at import ("true" unless told otherwise).
ENV_INCLUDE_METRICS = os.environ.get("INCLUDE_METRICS_IN_CLIENT_RESPONSE", "true").lower() == "true"
_FLAG_MODULES = ("seldon_core.user_model", "seldon_core.seldon_methods")


def include_metrics() -> bool:
    """False when either legacy module flag (user_model's or seldon_methods') is False."""
    for name in _FLAG_MODULES:
        module = sys.modules.get(name)
        if not getattr(module, "INCLUDE_METRICS_IN_CLIENT_RESPONSE", ENV_INCLUDE_METRICS):
            return False
    return True


@dataclass(frozen=True)
class LegacySettings(Settings):
    """Settings plus the feedback routing key the original passed explicitly (``predictive_unit_id``)."""

    routing_key: str | None = None

    @property
    def feedback_routing_key(self) -> str:
        if self.routing_key is not None:
            return self.routing_key
        return super().feedback_routing_key


class LegacyDataplane(Dataplane):
    """A Dataplane that reads, per call, what the original looked up per call through its modules.

    The metrics-in-response switch is the legacy module flags; ``meta.requestPath`` comes from
    ``seldon_core.utils.get_request_path`` (which calls that module's ``get_model_name`` and
    ``get_image_name``). Only in-process legacy code uses this class: the server's Dataplane keeps
    both as plain attributes.
    """

    @property
    def include_metrics(self) -> bool:
        return include_metrics()

    @property
    def _request_path(self) -> dict:
        from seldon_core import utils

        return utils.get_request_path()

    @_request_path.setter
    def _request_path(self, value: dict) -> None:
        """Dataplane.__init__ stores the settings' path; the legacy lookup replaces it."""


class _NoMetadataComponent(Component):
    """For per-call dataplanes: the user's ``init_metadata`` is not called on every request."""

    def init_metadata(self) -> dict:
        return {}


class _UpdateRecorder:
    """A recorder over an object with the original SeldonMetrics methods (``update``, ``update_reward``)."""

    def __init__(self, seldon_metrics: Any) -> None:
        self.seldon_metrics = seldon_metrics

    def record(self, metrics: list, method: str) -> None:
        self.seldon_metrics.update(metrics, method)

    def record_feedback(self, reward: float) -> None:
        self.seldon_metrics.update_reward(reward)

    def record_request(self, protocol: str, endpoint: str, method: str, code: str, seconds: float) -> None:
        return None


def recorder_for(seldon_metrics: Any) -> Any:
    """The recorder for what a legacy caller passed: SeldonMetrics itself, nothing, or a look-alike."""
    if seldon_metrics is None:
        return NullRecorder()
    if isinstance(seldon_metrics, (SeldonMetrics, PrometheusRecorder, NullRecorder)):
        return seldon_metrics
    if hasattr(seldon_metrics, "update"):
        return _UpdateRecorder(seldon_metrics)
    return seldon_metrics


def make_dataplane(
    user_model: Any,
    seldon_metrics: Any = None,
    *,
    with_metadata: bool = True,
    routing_key: str | None = None,
    **overrides: Any,
) -> LegacyDataplane:
    """A Dataplane over ``user_model`` with settings from the environment now.

    With ``with_metadata`` the model metadata is ``seldon_core.seldon_methods.init_metadata``'s
    (looked up now, as the original's ``get_rest_microservice`` did); without it (the per-call
    dataplanes of ``seldon_methods`` and ``utils``) the user's ``init_metadata`` is not called.
    """
    settings = LegacySettings.from_env(routing_key=routing_key, **overrides).with_(model_metadata=None)
    dataplane = LegacyDataplane(_NoMetadataComponent(user_model), settings, recorder_for(seldon_metrics))
    if with_metadata:
        from seldon_core import seldon_methods

        dataplane._model_metadata = seldon_methods.init_metadata(user_model)
    return dataplane


def plain_json(value: Any) -> Any:
    """Replace numpy arrays and scalars inside JSON dicts and lists by Python values, in place.

    The JSON codec leaves arrays for the fast encoder; the original's functions returned lists.
    """
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value
    for key, item in list(items):
        if isinstance(item, (np.ndarray, np.generic)):
            value[key] = item.tolist()
        elif isinstance(item, (dict, list)):
            plain_json(item)
    return value


def codec_for(request: Any) -> Any:
    """The proto codec for protobuf requests (gRPC), the JSON codec for everything else (REST)."""
    return seldon_proto if isinstance(request, Message) else seldon_json
