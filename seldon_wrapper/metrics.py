"""Custom metrics: the user's metric dicts, their validation, and where they are recorded.

The recorder is pluggable: the dataplane hands validated metrics to it. NullRecorder keeps
nothing; PrometheusRecorder writes them for the metrics server to expose.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)

from seldon_wrapper.errors import BAD_METRIC, SeldonMicroserviceException
from seldon_wrapper.settings import NOT_IMPLEMENTED

logger = logging.getLogger(__name__)

# The original exposed no *_created series; neither do we (and multiprocess mode has none).
disable_created_metrics()

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
        if not isinstance(metric, dict) or not ("key" in metric and "value" in metric and "type" in metric):
            return False
        if metric["type"] not in METRIC_TYPES:
            return False
        try:
            metric["value"] + 1
        except TypeError:
            return False
    return True


def tag_method(metrics: list, method: str) -> None:
    """Each metric's own ``tags`` dict gains ``method``, in place (visible in the response, as in
    the original)."""
    for metric in metrics:
        tags = metric.get("tags") if isinstance(metric, dict) else None
        if isinstance(tags, dict):
            tags["method"] = method


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

    def record_request(
        self, protocol: str, endpoint: str, method: str, code: str, seconds: float
    ) -> None: ...

    def record_refused(self, limit: str) -> None: ...

    def record_batch(self, size: int, waits: list[float]) -> None: ...


class NullRecorder:
    """Records nothing: used when no metrics server runs (in-process use, unit tests)."""

    def record(self, metrics: list, method: str) -> None:
        return None

    def record_feedback(self, reward: float) -> None:
        return None

    def record_request(self, protocol: str, endpoint: str, method: str, code: str, seconds: float) -> None:
        return None

    def record_refused(self, limit: str) -> None:
        return None

    def record_batch(self, size: int, waits: list[float]) -> None:
        return None


# -- Prometheus ---------------------------------------------------------------------------------

# TIMER buckets (seconds): the original's 50 bounds, log-spaced from 1 ms to 30 s (then +Inf).
# Written out as the original computed them (numpy 1.x ``np.logspace(-3, np.log10(30), 50)``):
# numpy 2 rounds 13 of them differently in the last digit, and the ``le`` label prints every
# digit, so a computed bound would split a dashboard's series across the upgrade.
TIMER_BUCKETS = (
    0.001, 0.0012341553253454693, 0.0015231393670785815, 0.0018797905611233593, 0.0023199535315445415,
    0.002863183005509725, 0.0035336125536884733, 0.004361026750842238, 0.005382184388525997,
    0.006642451525090608, 0.008197816923039709, 0.010117379411776668, 0.012486417679584786,
    0.015410178873747385, 0.019018554321561593, 0.02347185009632733, 0.028967908792092944,
    0.03575089889988335, 0.04412216226317852, 0.05445360152285871, 0.06720420230367624, 0.0829404241586763,
    0.10236136616184238, 0.12632982515827532, 0.15591062646904755, 0.19241792993472334, 0.2374736129208902,
    0.2930793240153456, 0.3617054084821892, 0.44640065608455204, 0.5509277469444613, 0.6799304127720881,
    0.8391397397870157, 1.035628778567157, 1.2781267721496807, 1.5774069623151439, 1.9467652027782552,
    2.402610642206036, 2.965194718810281, 3.65951085290597, 4.516404807273444, 5.573945044312399,
    6.879113959621136, 8.489895126924782, 10.477849282518772, 12.931293490187748, 15.959224724520412,
    19.696162182151948, 24.30812344597087, 29.999999999999996,
)
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REQUESTS_TOTAL = "seldon_api_model_requests"  # exposed as seldon_api_model_requests_total
REQUEST_SECONDS = "seldon_api_model_request_duration_seconds"
REFUSED_TOTAL = "seldon_api_refused_requests"  # exposed as seldon_api_refused_requests_total
BATCH_SIZE = "seldon_api_model_batch_size"  # requests per batched predict call
BATCH_WAIT_SECONDS = "seldon_api_model_batch_wait_seconds"  # per request: queued until its call began
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
BATCH_WAIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_BATCH_SIZE = "BATCH_SIZE"
_BATCH_WAIT = "BATCH_WAIT"
_REQUEST = "REQUEST"
_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def sanitize_name(name: Any) -> str:
    """A valid Prometheus metric/label name: invalid characters become ``_``."""
    clean = _INVALID.sub("_", str(name))
    if not clean or clean[0].isdigit():
        clean = "_" + clean
    return clean


def default_labels(settings: Any) -> dict[str, str]:
    """The labels every custom metric carries (spec 6.5), from the Seldon environment."""
    image_name = settings.image_name or NOT_IMPLEMENTED
    image_version = settings.image_version or NOT_IMPLEMENTED
    deployment = settings.deployment_id
    return {
        "deployment_name": deployment,
        "model_name": settings.predictive_unit_id or NOT_IMPLEMENTED,
        "model_image": image_name,
        "model_version": image_version,
        "predictor_name": settings.predictor_id,
        "predictor_version": settings.predictor_version,
        "seldon_deployment_name": deployment,
        "image_name": image_name,
        "image_version": image_version,
    }


def multiprocess_mode() -> bool:
    """Whether prometheus-client writes per-process files (decided when it was first imported)."""
    return values.ValueClass is not values.MutexValue


class _Metrics:
    """A collector over metric objects that are in no registry (single-process mode)."""

    def __init__(self, metrics: dict) -> None:
        self._metrics = metrics

    def collect(self) -> Any:
        for metric in list(self._metrics.values()):
            yield from metric.collect()


class PrometheusRecorder:
    """Custom, feedback and request metrics in prometheus-client.

    In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set before prometheus-client is first
    imported, which the CLI does) each process writes its own memory-mapped file, with no lock
    shared between processes, and a scrape sums them: counters of a recycled or crashed worker
    are kept, not reset. Otherwise the values live in this process.
    """

    def __init__(self, settings: Any) -> None:
        self.multiprocess = multiprocess_mode()
        self.defaults = default_labels(settings)
        self._metrics: dict[tuple, Any] = {}
        self._request_children: dict[tuple, tuple] = {}
        self._batch_children: tuple | None = None
        self._lock = threading.Lock()

    def _metric(self, kind: str, name: str, labelnames: tuple[str, ...]) -> Any:
        key = (kind, name, labelnames)
        metric = self._metrics.get(key)
        if metric is None:
            with self._lock:
                metric = self._metrics.get(key)
                if metric is None:
                    metric = _new_metric(kind, name, labelnames)
                    self._metrics[key] = metric
        return metric

    def _labels(self, tags: Any, method: str) -> dict[str, str]:
        labels = {sanitize_name(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}
        labels.update(self.defaults)
        labels["method"] = method
        return labels

    def record(self, metrics: list, method: str) -> None:
        for metric in metrics:
            kind = metric.get("type", COUNTER)
            if kind not in METRIC_TYPES:
                logger.error("Unknown metrics type: %s", metric)
                continue
            labels = self._labels(metric.get("tags"), method)
            child = self._metric(kind, sanitize_name(metric["key"]), tuple(sorted(labels))).labels(**labels)
            value = float(metric["value"])
            if kind == COUNTER:
                _add(child, value)
            elif kind == GAUGE:
                child.set(value)
            else:
                child.observe(value / 1000.0)  # TIMER values are milliseconds

    def record_feedback(self, reward: float) -> None:
        labels = self._labels(None, "feedback")
        names = tuple(sorted(labels))
        self._metric(COUNTER, FEEDBACK_KEY, names).labels(**labels).inc(1)
        _add(self._metric(COUNTER, FEEDBACK_REWARD_KEY, names).labels(**labels), float(reward))

    def record_request(self, protocol: str, endpoint: str, method: str, code: str, seconds: float) -> None:
        """One served request: a count by status code and a latency observation."""
        key = (protocol, endpoint, method, code)
        children = self._request_children.get(key)
        if children is None:
            labels = {
                "protocol": protocol,
                "endpoint": endpoint,
                "method": method,
                "model_name": self.defaults["model_name"],
                "deployment_name": self.defaults["deployment_name"],
                "predictor_name": self.defaults["predictor_name"],
            }
            timing = self._metric(_REQUEST, REQUEST_SECONDS, tuple(sorted(labels))).labels(**labels)
            labels["code"] = code
            count = self._metric(COUNTER, REQUESTS_TOTAL, tuple(sorted(labels))).labels(**labels)
            children = self._request_children[key] = (timing, count)
        children[0].observe(seconds)
        children[1].inc()

    def record_refused(self, limit: str) -> None:
        """A request refused by one of the server's limits (``limit`` names which)."""
        labels = {"limit": limit, "model_name": self.defaults["model_name"]}
        self._metric(COUNTER, REFUSED_TOTAL, tuple(sorted(labels))).labels(**labels).inc()

    def record_batch(self, size: int, waits: list[float]) -> None:
        """One batched predict call: its size once, and each member's wait for it."""
        children = self._batch_children
        if children is None:
            labels = {key: self.defaults[key] for key in ("model_name", "deployment_name", "predictor_name")}
            names = tuple(sorted(labels))
            children = self._batch_children = (
                self._metric(_BATCH_SIZE, BATCH_SIZE, names).labels(**labels),
                self._metric(_BATCH_WAIT, BATCH_WAIT_SECONDS, names).labels(**labels),
            )
        children[0].observe(size)
        for wait in waits:
            children[1].observe(wait)

    def exposition(self) -> bytes:
        """The Prometheus text exposition of everything recorded (by every process)."""
        registry = CollectorRegistry(auto_describe=False)
        if self.multiprocess:
            multiprocess.MultiProcessCollector(registry)
        else:
            registry.register(_Metrics(self._metrics))
        return generate_latest(registry)


def _add(counter: Any, value: float) -> None:
    """Add to a counter, negative values included: the original added whatever the user sent
    (bandit routers send negative rewards), while prometheus-client's ``inc`` refuses them."""
    if value >= 0:
        counter.inc(value)
    else:
        counter._value.inc(value)


def _new_metric(kind: str, name: str, labelnames: tuple[str, ...]) -> Any:
    if kind == COUNTER:
        return Counter(name, "", labelnames, registry=None)
    if kind == GAUGE:
        return Gauge(name, "", labelnames, registry=None, multiprocess_mode="mostrecent")
    if kind == TIMER:
        return Histogram(name, "", labelnames, registry=None, buckets=TIMER_BUCKETS)
    if kind == _BATCH_SIZE:
        return Histogram(name, "", labelnames, registry=None, buckets=BATCH_SIZE_BUCKETS)
    if kind == _BATCH_WAIT:
        return Histogram(name, "", labelnames, registry=None, buckets=BATCH_WAIT_BUCKETS)
    return Histogram(name, "", labelnames, registry=None, buckets=REQUEST_BUCKETS)
