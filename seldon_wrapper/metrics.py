"""Custom metrics: the user's metric dicts, their validation, and where they are recorded.

The recorder is pluggable: the dataplane hands validated metrics to it. The default one
only counts nothing; the Prometheus recorder (multiprocess) plugs in here.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from seldon_wrapper.errors import BAD_METRIC, SeldonMicroserviceException

COUNTER = "COUNTER"
GAUGE = "GAUGE"
TIMER = "TIMER"
METRIC_TYPES = (COUNTER, GAUGE, TIMER)
FEEDBACK_KEY = "seldon_api_model_feedback"
FEEDBACK_REWARD_KEY = "seldon_api_model_feedback_reward"


def validate_metrics(metrics: Any) -> bool:
    """The original's rule: a list of dicts with key, value (a number) and a known type."""
    if not isinstance(metrics, list):
        return False
    for metric in metrics:
        if not isinstance(metric, dict):
            return False
        if not ("key" in metric and "value" in metric and "type" in metric):
            return False
        if metric["type"] not in METRIC_TYPES:
            return False
        try:
            metric["value"] + 1
        except TypeError:
            return False
    return True


def bad_metric_error(metrics: Any) -> SeldonMicroserviceException:
    try:
        text = json.dumps(metrics)
    except (TypeError, ValueError):
        text = repr(metrics)
    return SeldonMicroserviceException(
        "Bad metric created during request: " + text, status_code=500, reason=BAD_METRIC
    )


def _create(key: str, value: float, metric_type: str) -> dict:
    value + 1  # raises TypeError for a non-number, as the original
    return {"key": key, "type": metric_type, "value": value}


def create_counter(key: str, value: float) -> dict:
    return _create(key, value, COUNTER)


def create_gauge(key: str, value: float) -> dict:
    return _create(key, value, GAUGE)


def create_timer(key: str, value: float) -> dict:
    return _create(key, value, TIMER)


class MetricsRecorder(Protocol):
    """Where validated custom metrics go."""

    def record(self, metrics: list, method: str) -> None: ...

    def record_feedback(self, reward: float) -> None: ...


class NullRecorder:
    """Records nothing: used when no metrics server runs (in-process use, unit tests)."""

    def record(self, metrics: list, method: str) -> None:
        return None

    def record_feedback(self, reward: float) -> None:
        return None
