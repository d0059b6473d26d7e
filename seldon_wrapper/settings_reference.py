"""The documented face of every flag and environment variable (docs/configuration.md).

``settings.py`` and ``cli.py`` stay the only places that read configuration; this table says
what each option means and where it came from, so the configuration page can be generated
from the code. ``tests/unit/test_settings_reference.py`` checks the table against the parser
and against the variables the code really reads, so an undocumented flag fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass

from seldon_wrapper.settings import (
    ANNOTATION_GRPC_MAX_MSG_SIZE,
    ANNOTATION_REST_TIMEOUT,
    DEFAULT_REST_TIMEOUT_S,
    FLASK_CONFIG_KEYS,
    Settings,
)

ORIGINAL = "original"
CHANGED = "original, changed"
OURS = "seldon-wrapper"


@dataclass(frozen=True)
class Option:
    """One row of the configuration table.

    ``field`` names the ``Settings`` field the option sets (its default is read from there);
    ``example`` is a value that changes that field, which the tests use to prove the flag or
    variable really drives it; ``default`` overrides the displayed default.
    """

    meaning: str
    flag: str | None = None
    env: tuple[str, ...] = ()
    field: str | None = None
    origin: str = ORIGINAL
    example: str | None = None
    default: str | None = None

    def shown_default(self) -> str:
        if self.default is not None:
            return self.default
        if self.field is None:
            return ""
        value = getattr(Settings(), self.field)
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "unset"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, tuple | dict):
            return "" if not value else repr(value)
        return str(value)


OPTIONS: tuple[Option, ...] = (
    # What to serve.
    Option(
        "Module of the user class (file and class share the name) or `package.module.Class`",
        flag="interface_name",
        field="interface_name",
        default="required",
    ),
    Option(
        "`MODEL`, `ROUTER`, `TRANSFORMER`, `COMBINER`, `OUTLIER_DETECTOR`; every route is served "
        "whatever the type. `RECOMMENDER` (ours) serves the pre-Core API",
        flag="--service-type",
        field="service_type",
        example="ROUTER",
    ),
    Option(
        "JSON list of `{name, value, type}` passed to the class constructor",
        flag="--parameters",
        env=("PREDICTIVE_UNIT_PARAMETERS",),
        field="parameters",
        example='[{"name":"a","value":"1","type":"INT"}]',
    ),
    Option(
        "Deprecated in the original; accepted and ignored",
        flag="--persistence",
        field="persistence",
        example="1",
    ),
    # Processes and ports.
    Option(
        "Address every server binds",
        flag="--host",
        env=("SELDON_HOST",),
        field="host",
        origin=OURS,
        example="127.0.0.1",
    ),
    Option(
        "REST port (v1, V2 and v0 routes)",
        flag="--http-port",
        env=("PREDICTIVE_UNIT_HTTP_SERVICE_PORT",),
        field="http_port",
        example="9100",
    ),
    Option(
        "Also serve REST on this Unix socket (seldon-core-executor's local components use it)",
        flag="--http-socket",
        env=("SELDON_HTTP_SOCKET",),
        field="http_socket",
        origin=OURS,
        example="/tmp/model.sock",
    ),
    Option(
        "gRPC port (v1 `seldon.protos`, V2, health, reflection)",
        flag="--grpc-port",
        env=("PREDICTIVE_UNIT_GRPC_SERVICE_PORT",),
        field="grpc_port",
        example="5100",
    ),
    Option(
        "Prometheus metrics port",
        flag="--metrics-port",
        env=("PREDICTIVE_UNIT_METRICS_SERVICE_PORT",),
        field="metrics_port",
        example="6100",
    ),
    Option(
        "Path of the metrics page on the metrics port",
        env=("PREDICTIVE_UNIT_METRICS_ENDPOINT",),
        field="metrics_endpoint",
        example="/prometheus",
    ),
    Option(
        "REST worker processes (Gunicorn)",
        flag="--workers",
        env=("GUNICORN_WORKERS",),
        field="workers",
        example="3",
    ),
    Option(
        "Threads per REST worker", flag="--threads", env=("GUNICORN_THREADS",), field="threads", example="4"
    ),
    Option(
        "Restart a REST worker after this many requests (0: never)",
        flag="--max-requests",
        env=("GUNICORN_MAX_REQUESTS",),
        field="max_requests",
        example="1000",
    ),
    Option(
        "Random jitter added to `--max-requests`",
        flag="--max-requests-jitter",
        env=("GUNICORN_MAX_REQUESTS_JITTER",),
        field="max_requests_jitter",
        example="50",
    ),
    Option(
        "Seconds an idle keep-alive REST connection is kept",
        flag="--keepalive",
        env=("GUNICORN_KEEPALIVE",),
        field="keepalive",
        example="5",
    ),
    Option(
        "1: one thread per REST worker whatever `--threads` says",
        flag="--single-threaded",
        env=("FLASK_SINGLE_THREADED",),
        field="single_threaded",
        example="1",
    ),
    Option(
        "Open connections one REST worker holds; more wait in the backlog",
        flag="--worker-connections",
        env=("GUNICORN_WORKER_CONNECTIONS",),
        field="worker_connections",
        origin=OURS,
        example="50",
    ),
    Option(
        "gRPC server threads per gRPC process",
        flag="--grpc-threads",
        env=("GRPC_THREADS",),
        field="grpc_threads",
        example="4",
    ),
    Option(
        "gRPC server processes (sharing the port with SO_REUSEPORT)",
        flag="--grpc-workers",
        env=("GRPC_WORKERS",),
        field="grpc_workers",
        example="2",
    ),
    Option(
        "File the Gunicorn arbiter writes its pid to", flag="--pidfile", field="pidfile", example="/tmp/x.pid"
    ),
    Option(
        "REST with the speed machinery; `false` serves REST with Flask and Gunicorn's own workers",
        flag="--speedups",
        env=("SELDON_SPEEDUPS",),
        field="speedups",
        origin=OURS,
        example="false",
    ),
    # Limits and deadlines (docs/reliability.md).
    Option(
        "Largest REST request body in bytes, else 413 (0: no limit)",
        flag="--max-request-size",
        env=("SELDON_MAX_REQUEST_SIZE",),
        field="max_request_size",
        origin=OURS,
        example="1024",
    ),
    Option(
        "Seconds to send a request's headers once begun, else 408",
        flag="--request-header-timeout",
        env=("SELDON_REQUEST_HEADER_TIMEOUT",),
        field="request_header_timeout",
        origin=OURS,
        example="3",
    ),
    Option(
        "Seconds to send a body, plus one per `--request-body-min-rate` bytes, else 408",
        flag="--request-body-timeout",
        env=("SELDON_REQUEST_BODY_TIMEOUT",),
        field="request_body_timeout",
        origin=OURS,
        example="3",
    ),
    Option(
        "Bytes per second a slow body must keep up to earn more time",
        flag="--request-body-min-rate",
        env=("SELDON_REQUEST_BODY_MIN_RATE",),
        field="request_body_min_rate",
        origin=OURS,
        example="1024",
    ),
    Option(
        "Largest gRPC message sent or received, in bytes (wins over the "
        f"`{ANNOTATION_GRPC_MAX_MSG_SIZE}` annotation)",
        flag="--grpc-max-message-size",
        env=("SELDON_GRPC_MAX_MESSAGE_SIZE",),
        field="grpc_max_message_size",
        origin=OURS,
        example="1048576",
        default="unset: the annotation, else gRPC's 4 MiB",
    ),
    Option(
        "Seconds accepted REST and gRPC requests get to finish after SIGTERM",
        flag="--grace-period",
        env=("SELDON_GRACE_PERIOD",),
        field="grace_period",
        origin=OURS,
        example="5",
    ),
    Option(
        "The gRPC grace period on its own",
        flag="--grpc-grace-period",
        env=("SELDON_GRPC_GRACE_PERIOD",),
        field="grpc_grace_period",
        origin=OURS,
        example="5",
        default="`--grace-period`",
    ),
    # Adaptive batching (docs/batching.md).
    Option(
        "Most requests one batched `predict` call takes (0 or 1: off); a class attribute "
        "`max_batch_size` wins",
        flag="--max-batch-size",
        env=("SELDON_MAX_BATCH_SIZE",),
        field="max_batch_size",
        origin=OURS,
        example="32",
    ),
    Option(
        "After a batched call that had company, how long the next batch may wait to fill (ms "
        "from its oldest request); a class attribute `max_batch_time_ms` wins",
        flag="--max-batch-time-ms",
        env=("SELDON_MAX_BATCH_TIME_MS",),
        field="max_batch_time_ms",
        origin=OURS,
        example="5",
    ),
    # Logging and tracing.
    Option("Log level (`SELDON_LOG_LEVEL` wins)", flag="--log-level", field="log_level", example="DEBUG"),
    Option(
        "Log level, wins over `--log-level`",
        env=("SELDON_LOG_LEVEL",),
        field="seldon_log_level",
        example="DEBUG",
    ),
    Option(
        "`json`: one JSON object per log line",
        env=("SELDON_LOG_FORMAT",),
        field="log_format",
        origin=OURS,
        example="json",
    ),
    Option(
        "Flask debug mode and DEBUG logging; the flag takes a boolean (`--debug false` is false)",
        flag="--debug",
        env=("SELDON_DEBUG",),
        field="debug",
        origin=CHANGED,
        example="true",
    ),
    Option(
        "Gunicorn access log lines",
        flag="--access-log",
        env=("GUNICORN_ACCESS_LOG",),
        field="access_log",
        example="true",
    ),
    Option(
        "Leave access-log lines of metrics scrapes out",
        env=("FILTER_METRICS_ACCESS_LOGS",),
        field="filter_metrics_access_logs",
        example="false",
        default="true unless `--debug`",
    ),
    Option(
        "1: OpenTelemetry tracing (`pip install 'seldon-wrapper[tracing]'`)",
        flag="--tracing",
        env=("TRACING",),
        field="tracing",
        origin=CHANGED,
        example="1",
    ),
    Option(
        "Comma-separated names of environment variables added as span attributes",
        env=("JAEGER_EXTRA_TAGS",),
        field="jaeger_extra_tags",
        example="POD_NAME",
    ),
    Option(
        "Sampler: `const`, `probabilistic`, `ratelimiting`", env=("JAEGER_SAMPLER_TYPE",), default="const"
    ),
    Option("The sampler's parameter", env=("JAEGER_SAMPLER_PARAM",), default="1"),
    Option(
        "Host of a Jaeger agent; spans go to its OTLP port 4317", env=("JAEGER_AGENT_HOST",), origin=CHANGED
    ),
    Option(
        "Service name of the spans",
        env=("JAEGER_SERVICE_NAME", "OTEL_SERVICE_NAME"),
        default="the class name",
    ),
    Option(
        "OpenTelemetry's own settings: sampler, exporter (`otlp`, `console`, `none`), OTLP endpoint",
        env=(
            "OTEL_TRACES_SAMPLER",
            "OTEL_TRACES_EXPORTER",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ),
        origin=OURS,
    ),
    # Identity: set by the Seldon operator, or by hand in a plain Deployment.
    Option(
        "Name of this graph node: the `meta.requestPath` key, feedback routing, metric labels",
        env=("PREDICTIVE_UNIT_ID",),
        field="predictive_unit_id",
        example="classifier",
    ),
    Option(
        "Image of this node: the `meta.requestPath` value, metadata and metric labels",
        env=("PREDICTIVE_UNIT_IMAGE",),
        field="predictive_unit_image",
        example="me/model:1.0",
    ),
    Option("Predictor name (metric label)", env=("PREDICTOR_ID",), field="predictor_id", example="default"),
    Option(
        "JSON labels of the predictor; `version` becomes a metric label",
        env=("PREDICTOR_LABELS",),
        field="predictor_labels",
        example='{"version":"v2"}',
    ),
    Option(
        "SeldonDeployment name (metric label)",
        env=("SELDON_DEPLOYMENT_ID",),
        field="deployment_id",
        example="mydep",
    ),
    Option(
        "`false`: no executor in front (legacy metric names)",
        env=("SELDON_EXECUTOR_ENABLED",),
        field="executor_enabled",
        example="false",
    ),
    Option(
        "`false`: custom metrics are recorded but left out of response `meta`",
        env=("INCLUDE_METRICS_IN_CLIENT_RESPONSE",),
        field="include_metrics_in_client_response",
        example="false",
    ),
    Option(
        "`true`: `*_raw` answers that are not SeldonMessages are returned as they are",
        env=("PAYLOAD_PASSTHROUGH",),
        field="payload_passthrough",
        example="true",
    ),
    Option(
        "Model metadata (YAML or JSON), merged over `init_metadata()`",
        env=("MODEL_METADATA",),
        field="model_metadata",
        example="name: m",
    ),
    Option(
        "The downward-API annotations file (`seldon.io/*` annotations below)",
        env=("SELDON_ANNOTATIONS_FILE",),
        field="annotations_file",
        origin=OURS,
        example="/tmp/annotations",
    ),
    Option(
        "Flask settings, boolean: " + ", ".join(f"`FLASK_{key}`" for key in FLASK_CONFIG_KEYS),
        env=tuple(f"FLASK_{key}" for key in FLASK_CONFIG_KEYS),
        field="flask_config",
        example="true",
        default="Flask's",
    ),
    # V2 adapter.
    Option(
        "Model name on the V2 API",
        flag="--v2-model-name",
        env=("SELDON_V2_MODEL_NAME",),
        field="v2_model_name",
        origin=OURS,
        example="mymodel",
        default="`PREDICTIVE_UNIT_ID`, else metadata name, else class name",
    ),
    Option(
        "User method V2 inference calls: `auto` (predict, else transform_input, else "
        "transform_output), `predict`, `transform-input`, `transform-output`, `route`",
        flag="--v2-method",
        env=("SELDON_V2_METHOD",),
        field="v2_method",
        origin=OURS,
        example="route",
    ),
    # Process environment.
    Option(
        "prometheus-client's multiprocess directory; unset: a private temporary one, removed at exit",
        env=("PROMETHEUS_MULTIPROC_DIR",),
        origin=OURS,
        default="a temporary directory",
    ),
    Option(
        "Memcached servers (`host:port,...`) holding the items of `/recommend` (pre-Core API)",
        env=("SELDON_MEMCACHED_SERVERS",),
        origin=OURS,
    ),
)

#: Pod annotations read from the annotations file: (name, meaning, default).
ANNOTATIONS: tuple[tuple[str, str, str], ...] = (
    (
        ANNOTATION_REST_TIMEOUT,
        "REST worker timeout in milliseconds (Gunicorn's `timeout`, at least 1 s)",
        f"{DEFAULT_REST_TIMEOUT_S} s",
    ),
    (
        ANNOTATION_GRPC_MAX_MSG_SIZE,
        "Largest gRPC message in bytes, unless `--grpc-max-message-size` is set",
        "gRPC's 4 MiB",
    ),
)

#: Variables we read but do not own: glibc's malloc tunables (the heap keeper steps aside when set).
RESPECTED = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def documented_flags() -> set[str]:
    return {option.flag for option in OPTIONS if option.flag}


def documented_env() -> set[str]:
    return {name for option in OPTIONS for name in option.env}
