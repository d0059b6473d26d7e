"""The one frozen Settings object: every flag, environment variable and default.

Settings are resolved once at start-up (by ``cli.py``) or from the environment alone (for
in-process use such as ``seldon_core.wrapper.get_rest_microservice``). Nothing else in the
package reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

logger = logging.getLogger(__name__)

# RECOMMENDER: a pre-Core scorer with recommend() (docs/legacy-v0.md). Every route is served whatever
# the type, as in the original.
SERVICE_TYPES = ("MODEL", "ROUTER", "TRANSFORMER", "COMBINER", "OUTLIER_DETECTOR", "RECOMMENDER")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
V2_METHODS = ("auto", "predict", "transform-input", "transform-output", "route")
DEFAULT_ANNOTATIONS_FILE = "/etc/podinfo/annotations"
ANNOTATION_REST_TIMEOUT = "seldon.io/rest-timeout"
ANNOTATION_GRPC_MAX_MSG_SIZE = "seldon.io/grpc-max-message-size"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
DEFAULT_REST_TIMEOUT_S = 5000

FLASK_CONFIG_KEYS = (
    "DEBUG",
    "EXPLAIN_TEMPLATE_LOADING",
    "JSONIFY_PRETTYPRINT_REGULAR",
    "JSON_AS_ASCII",
    "JSON_SORT_KEYS",
    "PROPAGATE_EXCEPTIONS",
    "PRESERVE_CONTEXT_ON_EXCEPTION",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SECURE",
    "SESSION_REFRESH_EACH_REQUEST",
    "TEMPLATES_AUTO_RELOAD",
    "TESTING",
    "TRAP_HTTP_EXCEPTIONS",
    "TRAP_BAD_REQUEST_ERRORS",
    "USE_X_SENDFILE",
)

_TRUE = ("1", "true", "t")
_YES = ("y", "yes", "t", "true", "on", "1")
_NO = ("n", "no", "f", "false", "off", "0")


def parse_bool(value: object) -> bool:
    """A flag's or a BOOL parameter's truth value (any case); ValueError for other text."""
    lowered = str(value).lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise ValueError(f"invalid truth value {value!r}")


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """The original's boolean rule: ``1``, ``true``, ``t`` (any case) are True; unset -> default."""
    value = env.get(name)
    if value is None:
        return default
    return value.lower() in _TRUE


def _env_number(env: Mapping[str, str], name: str, default: Any, kind: type = int) -> Any:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise ValueError(f"environment variable {name}={value!r} is not {what}") from None


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    return _env_number(env, name, default)


def _env_float(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    return _env_number(env, name, default, float)


def parse_annotations(lines: Iterable[str]) -> dict[str, str]:
    """``key="value"`` lines of the downward-API annotations file -> {key: value}."""
    annotations: dict[str, str] = {}
    for line in lines:
        line = line.rstrip()
        if not line:
            continue
        if "=" not in line:
            logger.warning("Bad annotation [%s]", line)
            continue
        key, value = line.split("=", 1)
        annotations[key.strip()] = value.strip()[1:-1]
    return annotations


def load_annotations(path: str) -> dict[str, str]:
    """Read the downward-API annotations file; missing or unreadable -> {}."""
    try:
        if not os.path.isfile(path):
            return {}
        with open(path, encoding="utf-8") as handle:
            return parse_annotations(handle)
    except Exception as exc:  # the original logs and carries on with none
        logger.error("Failed to read annotations file %s: %s", path, exc)
        return {}


def split_image(image: str | None) -> tuple[str, str]:
    """``repo/name:tag`` -> (``repo/name``, ``tag``), splitting on the last colon."""
    if not image:
        return "", ""
    if ":" not in image:
        return image, ""
    name, version = image.rsplit(":", 1)
    return name, version


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know, resolved once."""

    interface_name: str = ""
    service_type: str = "MODEL"
    persistence: int = 0
    parameters: str = "[]"
    log_level: str = "INFO"
    debug: bool = False
    tracing: int = 0
    workers: int = 1
    threads: int = 1
    max_requests: int = 0
    max_requests_jitter: int = 0
    keepalive: int = 2
    single_threaded: int = 0
    host: str = "0.0.0.0"
    http_port: int = 9000
    #: Also serve REST on this Unix socket (the executor's local components: cheaper than TCP).
    http_socket: str | None = None
    grpc_port: int = 5000
    metrics_port: int = 6000
    pidfile: str | None = None
    access_log: bool = False
    grpc_threads: int = 1
    grpc_workers: int = 1
    grpc_max_message_size: int | None = None
    #: Seconds requests already accepted get to finish after SIGTERM, on REST and gRPC alike.
    #: Kubernetes kills a pod 30 s after SIGTERM (terminationGracePeriodSeconds); 25 s leaves 5
    #: for the processes to exit and their files to be removed before that.
    grace_period: float = 25.0
    #: The gRPC grace period when set apart (the original's flag); else ``grace_period``.
    grpc_grace_period: float | None = None
    v2_model_name: str | None = None
    v2_method: str = "auto"
    log_format: str = "text"
    speedups: bool = True
    #: Largest REST request body in bytes (0: no limit). One worker parses one body at a time and
    #: JSON of S bytes becomes about 4 S of Python objects, so 32 MiB keeps a worker within
    #: about 150 MB of its idle size; the original had no limit.
    max_request_size: int = 32 * 1024 * 1024
    #: Open connections one REST worker holds (Gunicorn's setting); the rest wait in the backlog.
    worker_connections: int = 1000
    #: Seconds a client has to send a request's header block once it began (then 408). Headers
    #: fit in one packet; the margin is for slow links, and a slow client holds only its slot.
    request_header_timeout: float = 10.0
    #: Seconds a client has to send a body, plus one per ``request_body_min_rate`` bytes sent.
    request_body_timeout: float = 10.0
    #: Bytes per second a body must keep up (16 KiB/s: 128 kbit/s) to earn more time.
    request_body_min_rate: int = 16384
    #: Most requests one batched ``predict`` call takes (docs/batching.md); 0 or 1: off.
    max_batch_size: int = 0
    #: After a batched call that had company, how long the next batch may wait to fill, in ms
    #: from its oldest request. A lone caller never waits (batching.py says why).
    max_batch_time_ms: float = 2.0
    # Environment-only settings.
    seldon_log_level: str | None = None
    metrics_endpoint: str = "/metrics"
    predictive_unit_id: str | None = None
    predictive_unit_image: str | None = None
    predictor_id: str = NOT_IMPLEMENTED
    predictor_labels: str = "{}"
    deployment_id: str = NOT_IMPLEMENTED
    executor_enabled: bool = True
    include_metrics_in_client_response: bool = True
    payload_passthrough: bool = False
    model_metadata: str | None = None
    filter_metrics_access_logs: bool | None = None
    annotations_file: str = DEFAULT_ANNOTATIONS_FILE
    annotations: Mapping[str, str] = field(default_factory=dict)
    flask_config: Mapping[str, bool] = field(default_factory=dict)
    jaeger_extra_tags: tuple[str, ...] = ()

    @property
    def effective_log_level(self) -> str:
        """``SELDON_LOG_LEVEL`` wins over ``--log-level`` (the original's order)."""
        return (self.seldon_log_level or self.log_level).upper()

    @property
    def effective_threads(self) -> int:
        return 1 if self.single_threaded else self.threads

    @property
    def filter_metrics_logs(self) -> bool:
        if self.filter_metrics_access_logs is None:
            return not self.debug
        return self.filter_metrics_access_logs

    def _int_annotation(self, name: str) -> int | None:
        """An integer annotation; None when absent or (with a warning) not an integer."""
        raw = self.annotations.get(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            logger.warning("Ignoring bad %s annotation %r", name, raw)
            return None

    @property
    def rest_timeout_s(self) -> int:
        """Gunicorn timeout: the annotation is in milliseconds, at least one second."""
        millis = self._int_annotation(ANNOTATION_REST_TIMEOUT)
        return DEFAULT_REST_TIMEOUT_S if millis is None else max(1, int(millis / 1000))

    @property
    def effective_grpc_grace_period(self) -> float:
        return self.grace_period if self.grpc_grace_period is None else self.grpc_grace_period

    @property
    def effective_grpc_max_message_size(self) -> int | None:
        """Our flag/env wins over the ``seldon.io/grpc-max-message-size`` annotation."""
        if self.grpc_max_message_size is not None:
            return self.grpc_max_message_size
        return self._int_annotation(ANNOTATION_GRPC_MAX_MSG_SIZE)

    @property
    def image_name(self) -> str:
        return split_image(self.predictive_unit_image)[0]

    @property
    def image_version(self) -> str:
        return split_image(self.predictive_unit_image)[1]

    @property
    def request_path(self) -> dict[str, str]:
        """``{PREDICTIVE_UNIT_ID: PREDICTIVE_UNIT_IMAGE}`` added to every response meta."""
        if not self.predictive_unit_id:
            return {}
        image = self.predictive_unit_image or f"{NOT_IMPLEMENTED}:{NOT_IMPLEMENTED}"
        return {self.predictive_unit_id: image}

    @property
    def feedback_routing_key(self) -> str:
        return self.predictive_unit_id or "0"

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Settings from environment variables alone; ``overrides`` are flag values."""
        env = os.environ if env is None else env
        annotations_file = env.get("SELDON_ANNOTATIONS_FILE", DEFAULT_ANNOTATIONS_FILE)
        flask_config = {
            key: env_bool(env, "FLASK_" + key, False)
            for key in FLASK_CONFIG_KEYS
            if env.get("FLASK_" + key) is not None
        }
        filter_logs = env.get("FILTER_METRICS_ACCESS_LOGS")
        values = dict(
            parameters=env.get("PREDICTIVE_UNIT_PARAMETERS", "[]"),
            debug=env_bool(env, "SELDON_DEBUG", False),
            tracing=_env_int(env, "TRACING", 0),
            workers=_env_int(env, "GUNICORN_WORKERS", 1),
            threads=_env_int(env, "GUNICORN_THREADS", 1),
            max_requests=_env_int(env, "GUNICORN_MAX_REQUESTS", 0),
            max_requests_jitter=_env_int(env, "GUNICORN_MAX_REQUESTS_JITTER", 0),
            keepalive=_env_int(env, "GUNICORN_KEEPALIVE", 2),
            single_threaded=_env_int(env, "FLASK_SINGLE_THREADED", 0),
            host=env.get("SELDON_HOST", "0.0.0.0"),
            http_port=_env_int(env, "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", 9000),
            http_socket=env.get("SELDON_HTTP_SOCKET") or None,
            grpc_port=_env_int(env, "PREDICTIVE_UNIT_GRPC_SERVICE_PORT", 5000),
            metrics_port=_env_int(env, "PREDICTIVE_UNIT_METRICS_SERVICE_PORT", 6000),
            access_log=env_bool(env, "GUNICORN_ACCESS_LOG", False),
            grpc_threads=_env_int(env, "GRPC_THREADS", 1),
            grpc_workers=_env_int(env, "GRPC_WORKERS", 1),
            grpc_max_message_size=_env_int(env, "SELDON_GRPC_MAX_MESSAGE_SIZE", 0) or None,
            grace_period=_env_float(env, "SELDON_GRACE_PERIOD", 25.0),
            grpc_grace_period=_env_float(env, "SELDON_GRPC_GRACE_PERIOD", None),
            v2_model_name=env.get("SELDON_V2_MODEL_NAME") or None,
            v2_method=env.get("SELDON_V2_METHOD") or "auto",
            log_format=(env.get("SELDON_LOG_FORMAT") or "text").lower(),
            speedups=env_bool(env, "SELDON_SPEEDUPS", True),
            max_request_size=_env_int(env, "SELDON_MAX_REQUEST_SIZE", cls.max_request_size),
            worker_connections=_env_int(env, "GUNICORN_WORKER_CONNECTIONS", cls.worker_connections),
            request_header_timeout=_env_float(
                env, "SELDON_REQUEST_HEADER_TIMEOUT", cls.request_header_timeout
            ),
            request_body_timeout=_env_float(env, "SELDON_REQUEST_BODY_TIMEOUT", cls.request_body_timeout),
            request_body_min_rate=_env_int(env, "SELDON_REQUEST_BODY_MIN_RATE", cls.request_body_min_rate),
            max_batch_size=_env_int(env, "SELDON_MAX_BATCH_SIZE", cls.max_batch_size),
            max_batch_time_ms=_env_float(env, "SELDON_MAX_BATCH_TIME_MS", cls.max_batch_time_ms),
            seldon_log_level=env.get("SELDON_LOG_LEVEL") or None,
            metrics_endpoint=env.get("PREDICTIVE_UNIT_METRICS_ENDPOINT", "/metrics"),
            predictive_unit_id=env.get("PREDICTIVE_UNIT_ID") or None,
            predictive_unit_image=env.get("PREDICTIVE_UNIT_IMAGE") or None,
            predictor_id=env.get("PREDICTOR_ID", NOT_IMPLEMENTED),
            predictor_labels=env.get("PREDICTOR_LABELS", "{}"),
            deployment_id=env.get("SELDON_DEPLOYMENT_ID", NOT_IMPLEMENTED),
            executor_enabled=env.get("SELDON_EXECUTOR_ENABLED", "true").lower() != "false",
            include_metrics_in_client_response=(
                env.get("INCLUDE_METRICS_IN_CLIENT_RESPONSE", "true").lower() == "true"
            ),
            payload_passthrough=env_bool(env, "PAYLOAD_PASSTHROUGH", False),
            model_metadata=env.get("MODEL_METADATA"),
            filter_metrics_access_logs=(
                None if filter_logs is None else env_bool(env, "FILTER_METRICS_ACCESS_LOGS", True)
            ),
            annotations_file=annotations_file,
            annotations=load_annotations(annotations_file),
            flask_config=flask_config,
            jaeger_extra_tags=tuple(
                tag.strip() for tag in env.get("JAEGER_EXTRA_TAGS", "").split(",") if tag.strip()
            ),
        )
        values.update(overrides)
        return cls(**values)

    @property
    def predictor_version(self) -> str:
        try:
            labels = json.loads(self.predictor_labels)
            return str(labels.get("version", NOT_IMPLEMENTED))
        except (ValueError, AttributeError):
            return NOT_IMPLEMENTED
