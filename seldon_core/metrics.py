"""The original's ``seldon_core.metrics``: ``SeldonMetrics`` over seldon-wrapper's PrometheusRecorder.

``SeldonMetrics`` keeps the values recorded in this process (the original kept one store per
worker pid) and is itself a metrics recorder, so it can be handed to ``get_rest_microservice``,
``SeldonModelGRPC`` and the ``seldon_methods`` functions. Its exposition holds what the original's
did: custom metrics and the two feedback counters, each labelled with ``worker_id``; the request
counters seldon-wrapper's own server exports are not recorded here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from seldon_wrapper import dataplane as _dataplane
from seldon_wrapper.metrics import (
    COUNTER,
    FEEDBACK_KEY,
    FEEDBACK_REWARD_KEY,
    GAUGE,
    TIMER,
    TIMER_BUCKETS,
    PrometheusRecorder,
    create_counter,
    create_gauge,
    create_timer,
    tag_method,
    validate_metrics,
)
from seldon_wrapper.settings import Settings, split_image

__all__ = [
    "BINS",
    "COUNTER",
    "FEEDBACK_KEY",
    "FEEDBACK_REWARD_KEY",
    "GAUGE",
    "SeldonMetrics",
    "TIMER",
    "create_counter",
    "create_gauge",
    "create_timer",
    "split_image_tag",
    "validate_metrics",
]

# TIMER histogram edges (seconds): 0, the 50 bucket upper bounds, +Inf.
BINS = [0, *TIMER_BUCKETS, float("inf")]

FEEDBACK_METRIC_METHOD_TAG = _dataplane.FEEDBACK
PREDICT_METRIC_METHOD_TAG = _dataplane.PREDICT
INPUT_TRANSFORM_METRIC_METHOD_TAG = _dataplane.INPUT_TRANSFORM
OUTPUT_TRANSFORM_METRIC_METHOD_TAG = _dataplane.OUTPUT_TRANSFORM
ROUTER_METRIC_METHOD_TAG = _dataplane.ROUTER
AGGREGATE_METRIC_METHOD_TAG = _dataplane.AGGREGATE
HEALTH_METRIC_METHOD_TAG = _dataplane.HEALTH


def split_image_tag(tag: str) -> tuple[str, str]:
    """``repo/name:tag`` -> (``repo/name``, ``tag``), split on the last colon."""
    return split_image(tag)


class SeldonMetrics:
    """Custom and feedback metrics of this process, exposed in the Prometheus text format."""

    def __init__(
        self, worker_id_func: Callable[[], Any] = os.getpid, extra_default_labels: dict | None = None
    ):
        self.worker_id_func = worker_id_func
        self.extra_default_labels = dict(extra_default_labels or {})
        self._settings = Settings.from_env()
        self._recorder = self._new_recorder()

    def _new_recorder(self) -> PrometheusRecorder:
        recorder = PrometheusRecorder(self._settings)
        recorder.multiprocess = False  # this process's values, like the original's per-worker store
        recorder.defaults.update(self.extra_default_labels)
        return recorder

    def _current(self) -> PrometheusRecorder:
        recorder = self._recorder
        recorder.defaults["worker_id"] = str(self.worker_id_func())
        return recorder

    # -- the original's public methods --------------------------------------------------------

    def update(self, custom_metrics: list, method: str) -> None:
        """Record metric dicts; a metric's own ``tags`` dict gains ``method`` in place, as in the original."""
        tag_method(custom_metrics, method)
        self.record(custom_metrics, method)

    def update_reward(self, reward: float) -> None:
        """Count a feedback and add its reward.

        A zero reward records nothing, nor does any reward when SELDON_EXECUTOR_ENABLED=false.
        """
        if reward and self._settings.executor_enabled:
            self.record_feedback(reward)

    def collect(self) -> Iterator[Any]:
        """The metric families (a prometheus-client collector)."""
        yield from text_string_to_metric_families(self.generate_metrics()[0])

    def generate_metrics(self) -> tuple[str, str]:
        """(exposition text, its content type)."""
        return self._recorder.exposition().decode("utf-8"), CONTENT_TYPE_LATEST

    def clear(self) -> None:
        """Forget every value recorded so far."""
        self._recorder = self._new_recorder()

    # -- the recorder protocol of seldon_wrapper.dataplane --------------------------------------

    def record(self, metrics: list, method: str) -> None:
        self._current().record(metrics, method)

    def record_feedback(self, reward: float) -> None:
        self._current().record_feedback(reward)

    def record_request(self, protocol: str, endpoint: str, method: str, code: str, seconds: float) -> None:
        """Request counters are seldon-wrapper's own server metrics; the original had none."""
        return None

    def record_refused(self, limit: str) -> None:
        """Refusal counters too."""
        return None
