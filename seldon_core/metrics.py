"""The original's ``seldon_core.metrics``: custom metrics kept per worker and exposed for Prometheus.

Used by in-process code (``get_rest_microservice(model, SeldonMetrics())``, the ``seldon_methods``
functions, tests); seldon-wrapper's own server records into prometheus-client's multiprocess
store instead (``seldon_wrapper.metrics``). ``SeldonMetrics`` keeps what it recorded in ``data``,
``{worker_id: {(type, key, tags_key): {"value", "tags"}}}``, as the original did, and is also a
recorder for seldon-wrapper's Dataplane. The labels (``DEFAULT_LABELS``) and ``legacy_mode`` are
read from the environment at import and looked up through this module when used, so a test that
patches them sees the effect.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from multiprocessing import Manager  # noqa: F401 - a name the original's module had
from typing import Any, Dict, List, Tuple  # noqa: F401, UP035 - names the original's module had

import numpy as np
from prometheus_client import exposition
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.utils import floatToGoString

from seldon_core.env_utils import (
    get_deployment_name,
    get_image_name,
    get_model_name,
    get_predictor_name,
    get_predictor_version,
)
from seldon_wrapper import dataplane as _dataplane
from seldon_wrapper.metrics import (
    COUNTER,
    FEEDBACK_KEY,
    FEEDBACK_REWARD_KEY,
    GAUGE,
    TIMER,
    TIMER_BUCKETS,
    create_counter,
    create_gauge,
    create_timer,
    validate_metrics,
)

__all__ = [
    "BINS",
    "COUNTER",
    "DEFAULT_LABELS",
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

logger = logging.getLogger(__name__)

# TIMER histogram edges (seconds): 0, the 50 bucket upper bounds, +Inf.
BINS = [0, *TIMER_BUCKETS, np.inf]

FEEDBACK_METRIC_METHOD_TAG = _dataplane.FEEDBACK
PREDICT_METRIC_METHOD_TAG = _dataplane.PREDICT
INPUT_TRANSFORM_METRIC_METHOD_TAG = _dataplane.INPUT_TRANSFORM
OUTPUT_TRANSFORM_METRIC_METHOD_TAG = _dataplane.OUTPUT_TRANSFORM
ROUTER_METRIC_METHOD_TAG = _dataplane.ROUTER
AGGREGATE_METRIC_METHOD_TAG = _dataplane.AGGREGATE
HEALTH_METRIC_METHOD_TAG = _dataplane.HEALTH


def split_image_tag(tag: str) -> tuple[str, str]:
    """``repo/name:tag`` -> (``repo/name``, ``tag``): split on the last colon; ``("", tag)`` without one."""
    name, _, version = tag.rpartition(":")
    return name, version


image = get_image_name()
model_image, model_version = split_image_tag(image)
predictor_version = get_predictor_version()

# SELDON_EXECUTOR_ENABLED=false: the old Java engine counted feedback, so rewards are not recorded.
legacy_mode = os.environ.get("SELDON_EXECUTOR_ENABLED", "true").lower() == "false"

DEFAULT_LABELS = {
    "deployment_name": get_deployment_name(),
    "model_name": get_model_name(),
    "model_image": model_image,
    "model_version": model_version,
    "predictor_name": get_predictor_name(),
    "predictor_version": predictor_version,
}
# The label names of Seldon Core up to 1.3, still exported.
DEFAULT_LABELS["seldon_deployment_name"] = DEFAULT_LABELS["deployment_name"]
DEFAULT_LABELS["image_name"] = DEFAULT_LABELS["model_image"]
DEFAULT_LABELS["image_version"] = DEFAULT_LABELS["model_version"]


class SeldonMetrics:
    """Custom and feedback metrics of this process, by worker id, in the Prometheus text format.

    The original shared ``data`` between Gunicorn workers through a ``multiprocessing.Manager``;
    seldon-wrapper's server does not use this class, so a plain dict under a lock serves here.
    """

    def __init__(
        self, worker_id_func: Callable[[], Any] = os.getpid, extra_default_labels: dict | None = None
    ) -> None:
        self._lock = threading.Lock()
        self.data: dict = {}
        self.worker_id_func = worker_id_func
        self._extra_default_labels = dict(extra_default_labels or {})

    def update_reward(self, reward: float) -> None:
        """Count a feedback and add its reward (nothing for a zero reward or in ``legacy_mode``)."""
        if not reward or legacy_mode:
            return
        self.update([{"type": COUNTER, "key": FEEDBACK_KEY, "value": 1}], FEEDBACK_METRIC_METHOD_TAG)
        self.update(
            [{"type": COUNTER, "key": FEEDBACK_REWARD_KEY, "value": reward}], FEEDBACK_METRIC_METHOD_TAG
        )

    def update(self, custom_metrics: list, method: str) -> None:
        """Record metric dicts; a metric's own ``tags`` dict gains ``method`` in place."""
        worker = self.worker_id_func()
        with self._lock:
            worker_data = self.data.setdefault(worker, {})
            for metric in custom_metrics:
                metric_type = metric.get("type", COUNTER)
                tags = metric.get("tags", {})
                tags["method"] = method
                key = (metric_type, metric["key"], self._generate_tags_key(tags))
                if metric_type == COUNTER:
                    value = worker_data.get(key, {}).get("value", 0)
                    worker_data[key] = {"value": value + metric["value"], "tags": tags}
                elif metric_type == TIMER:
                    empty = (list(np.zeros(len(BINS) - 1)), 0)
                    counts, total = worker_data.get(key, {}).get("value", empty)
                    # TIMER values are milliseconds; the buckets are seconds.
                    hist = self._update_hist(metric["value"] / 1000, counts, total)
                    worker_data[key] = {"value": hist, "tags": tags}
                elif metric_type == GAUGE:
                    worker_data[key] = {"value": metric["value"], "tags": tags}
                else:
                    logger.error("Unknown metrics type: %s", metric_type)

    def collect(self) -> Iterator[Any]:
        """One metric family per recorded series (a prometheus-client collector)."""
        with self._lock:
            data = {worker: dict(values) for worker, values in self.data.items()}
        for worker_id, worker_data in data.items():
            for (item_type, item_name, _), item in worker_data.items():
                labels_keys, labels_values = self._merge_labels(str(worker_id), item["tags"])
                if item_type == GAUGE:
                    yield self._expose_gauge(item_name, item["value"], labels_keys, labels_values)
                elif item_type == COUNTER:
                    yield self._expose_counter(item_name, item["value"], labels_keys, labels_values)
                elif item_type == TIMER:
                    yield self._expose_histogram(item_name, item["value"], labels_keys, labels_values)

    def generate_metrics(self) -> tuple[str, str]:
        """(exposition text, its content type)."""
        registry = CollectorRegistry()
        registry.register(self)
        return exposition.generate_latest(registry).decode("utf-8"), exposition.CONTENT_TYPE_LATEST

    def clear(self) -> None:
        """Forget this worker's values (the original's ``worker_exit`` hook calls it)."""
        worker = self.worker_id_func()
        with self._lock:
            self.data.pop(worker, None)

    def _merge_labels(self, worker: str, tags: dict) -> tuple[list, list]:
        labels = {**tags, **DEFAULT_LABELS, **self._extra_default_labels, "worker_id": str(worker)}
        return list(labels.keys()), list(labels.values())

    @staticmethod
    def _generate_tags_key(tags: dict) -> str:
        return "_".join("-".join(item) for item in sorted(tags.items()))

    @staticmethod
    def _update_hist(x: float, vals: list, sumv: float) -> tuple[list, float]:
        hist = np.histogram([x], BINS)[0]
        return list(np.array(vals) + hist), sumv + x

    @staticmethod
    def _expose_gauge(name: str, value: float, labels_keys: list, labels_values: list) -> Any:
        metric = GaugeMetricFamily(name, "", labels=labels_keys)
        metric.add_metric(labels_values, value)
        return metric

    @staticmethod
    def _expose_counter(name: str, value: float, labels_keys: list, labels_values: list) -> Any:
        metric = CounterMetricFamily(name, "", labels=labels_keys)
        metric.add_metric(labels_values, value)
        return metric

    @staticmethod
    def _expose_histogram(name: str, value: tuple, labels_keys: list, labels_values: list) -> Any:
        vals, sumv = value
        buckets = [[floatToGoString(b), v] for v, b in zip(np.cumsum(vals), BINS[1:], strict=False)]
        metric = HistogramMetricFamily(name, "", labels=labels_keys)
        metric.add_metric(labels_values, buckets, sum_value=sumv)
        return metric

    # -- the recorder protocol of seldon_wrapper.dataplane --------------------------------------

    def record(self, metrics: list, method: str) -> None:
        self.update(metrics, method)

    def record_feedback(self, reward: float) -> None:
        self.update_reward(reward)

    def record_request(self, protocol: str, endpoint: str, method: str, code: str, seconds: float) -> None:
        """Request counters are seldon-wrapper's own server metrics; the original had none."""
        return None

    def record_refused(self, limit: str) -> None:
        """Refusal counters too."""
        return None
