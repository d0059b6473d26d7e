"""The executor's flags and environment, as the original Go executor took them, resolved once.

Go's ``flag`` package accepts ``-flag value``, ``--flag value``, ``-flag=value`` and
``--flag=value``; a boolean flag alone means true (``--full_health_checks``), and durations are
Go durations (``15s``, ``1m30s``, ``500ms``). Each is accepted here as there. Our addition is
``--component NODE=DIR[:CLASS]``: a graph node served by a local user class.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PROTOCOLS = ("seldon", "v2", "kfserving", "tensorflow")
TRANSPORTS = ("rest", "grpc")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "FATAL")
DEFAULT_LOGGER_ENDPOINT = "http://default-broker"
#: Every environment variable ``parse`` reads (the executor's, not the microservice's: those are
#: in docs/configuration.md); a test holds ``parse`` to this list.
ENVIRONMENT = (
    "SELDON_LOG_LEVEL",
    "SELDON_DEBUG",
    "REQUEST_LOGGER_DEFAULT_ENDPOINT",
    "SELDON_ENABLE_ROUTING_INJECTION",
    "ENGINE_PREDICTOR",
    "POD_NAME",
    "CORS_ALLOWED_ORIGINS",
    "CORS_ALLOWED_HEADERS",
    "SELDON_ANNOTATIONS_FILE",
    "SELDON_EXECUTOR_MAX_REQUEST_SIZE",
    "SELDON_EXECUTOR_REST_WORKERS",
    "SELDON_EXECUTOR_REST_THREADS",
    "SELDON_EXECUTOR_REST_READ_TIMEOUT_MS",
    "SELDON_EXECUTOR_REST_IDLE_TIMEOUT_MS",
    "SELDON_EXECUTOR_REST_MAX_HEADER_BYTES",
)
DEFAULT_CORS_HEADERS = "Accept, Accept-Encoding, Authorization, Content-Length, Content-Type, X-CSRF-Token"
DEFAULT_ANNOTATIONS_FILE = "/etc/podinfo/annotations"
ANNOTATION_REST_TIMEOUT = "seldon.io/rest-timeout"
ANNOTATION_GRPC_TIMEOUT = "seldon.io/grpc-timeout"
ANNOTATION_GRPC_MAX_MESSAGE_SIZE = "seldon.io/grpc-max-message-size"
#: The largest request body the executor reads (bytes); larger ones are answered 413.
DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024


class SettingsError(ValueError):
    """A flag or variable the executor cannot start with; the message names it."""


@dataclass(frozen=True)
class Binding:
    """``--component NODE=DIR[:CLASS]``: the node's requests go to CLASS from DIR, served here."""

    node: str
    directory: str
    class_name: str


@dataclass(frozen=True)
class ExecutorSettings:
    sdep: str
    namespace: str
    predictor: str
    http_port: int = 8080
    grpc_port: int = 5000
    protocol: str = "seldon"
    #: Whether --protocol was given: else a --file SeldonDeployment's spec.protocol applies.
    protocol_from_flag: bool = False
    transport: str = "rest"
    server_type: str = "rpc"
    file: str = ""
    hostname: str = ""
    prometheus_path: str = "/metrics"
    full_health_checks: bool = False
    logger_workers: int = 10
    log_work_buffer_size: int = 10000
    log_write_timeout_ms: int = 2000
    graceful_timeout_s: float = 15.0
    shutdown_delay_s: float = 0.0
    log_level: str = "INFO"
    debug: bool = False
    components: tuple[Binding, ...] = ()
    logger_default_endpoint: str = DEFAULT_LOGGER_ENDPOINT
    routing_injection: bool = False
    engine_predictor: str | None = field(default=None, repr=False)
    cors_origins: str = "*"
    cors_headers: str = DEFAULT_CORS_HEADERS
    #: Node-call timeouts in seconds (None: none), from our flags or the pod's annotations.
    rest_timeout_s: float | None = None
    grpc_timeout_s: float | None = None
    grpc_max_message_size: int = 2**31 - 1
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE
    rest_workers: int = 1
    #: Accepted for the commands that used it; the event-loop REST server has no threads to size.
    rest_threads: int = 32
    #: A client's whole request must arrive within this once its first byte came (else 408), and
    #: a kept-alive connection idle this long is closed; None: no limit.
    rest_read_timeout_s: float | None = 30.0
    rest_idle_timeout_s: float | None = 65.0
    #: The largest request line plus headers (bytes); more is a 431.
    rest_max_header_bytes: int = 64 * 1024
    component_start_timeout_s: float = 120.0
    host: str = "0.0.0.0"

    @property
    def source_url(self) -> str:
        """The payload logger's ``Ce-Source``: this executor's URL."""
        return f"http://{self.hostname or 'localhost'}:{self.http_port}/"

    @property
    def v2(self) -> bool:
        """``kfserving`` is the original's other name for ``v2``."""
        return self.protocol in ("v2", "kfserving")


# -- Go's flag syntax ----------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> float:
    """Seconds in a Go duration (``1m30s``, ``500ms``, ``0``); ValueError otherwise."""
    text = text.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    parts = _DURATION_PART.findall(body)
    if not body or "".join(number + unit for number, unit in parts) != body:
        raise ValueError(f"invalid duration {text!r} (use e.g. 15s, 1m30s, 500ms)")
    return sign * sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def go_bool(text: str) -> bool:
    """Go's strconv.ParseBool: 1, t, T, TRUE, true, True and the falses; nothing else."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f"invalid boolean {text!r}")


#: flag name -> (field, kind); kind: str, int, bool, duration, or "component" (repeatable).
FLAGS: dict[str, tuple[str, str]] = {
    "sdep": ("sdep", "str"),
    "namespace": ("namespace", "str"),
    "predictor": ("predictor", "str"),
    "http_port": ("http_port", "int"),
    "grpc_port": ("grpc_port", "int"),
    "protocol": ("protocol", "str"),
    "transport": ("transport", "str"),
    "server_type": ("server_type", "str"),
    "file": ("file", "str"),
    "hostname": ("hostname", "str"),
    "prometheus_path": ("prometheus_path", "str"),
    "full_health_checks": ("full_health_checks", "bool"),
    "logger_workers": ("logger_workers", "int"),
    "log_work_buffer_size": ("log_work_buffer_size", "int"),
    "log_write_timeout_ms": ("log_write_timeout_ms", "int"),
    "graceful_timeout": ("graceful_timeout_s", "duration"),
    "shutdown_delay": ("shutdown_delay_s", "duration"),
    "log_level": ("log_level", "str"),
    "debug": ("debug", "bool"),
    "component": ("components", "component"),
    # Ours: the original took these from pod annotations only (they still work).
    "rest_timeout_ms": ("rest_timeout_s", "ms"),
    "grpc_timeout_ms": ("grpc_timeout_s", "ms"),
    "max_request_size": ("max_request_size", "int"),
    "rest_workers": ("rest_workers", "int"),
    "rest_threads": ("rest_threads", "int"),
    "rest_read_timeout_ms": ("rest_read_timeout_s", "ms"),
    "rest_idle_timeout_ms": ("rest_idle_timeout_s", "ms"),
    "rest_max_header_bytes": ("rest_max_header_bytes", "int"),
    "component_start_timeout": ("component_start_timeout_s", "duration"),
    "host": ("host", "str"),
}


def _tokens(argv: Sequence[str]) -> list[tuple[str, str | None]]:
    """``[(name, value or None)]`` from Go-style flags; SettingsError for anything else."""
    out: list[tuple[str, str | None]] = []
    args = list(argv)
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith("-") or arg in ("-", "--"):
            raise SettingsError(f"unexpected argument {arg!r} (flags are --name value or --name=value)")
        name, equals, value = arg.lstrip("-").partition("=")
        if name not in FLAGS:
            raise SettingsError(f"flag provided but not defined: -{name}")
        kind = FLAGS[name][1]
        if equals:
            out.append((name, value))
        elif kind == "bool":
            out.append((name, None))  # a boolean flag alone is true; its value needs '='
        else:
            if index >= len(args):
                raise SettingsError(f"flag needs an argument: -{name}")
            out.append((name, args[index]))
            index += 1
    return out


def _convert(name: str, kind: str, value: str | None) -> object:
    try:
        if kind == "bool":
            return True if value is None else go_bool(value)
        if kind == "int":
            return int(value)
        if kind == "duration":
            return go_duration(value)
        if kind == "ms":
            milliseconds = int(value)
            if milliseconds < 0:
                raise ValueError("must not be negative")
            return milliseconds / 1000.0 if milliseconds else None
    except ValueError as exc:
        raise SettingsError(f"invalid value {value!r} for flag -{name}: {exc}") from None
    return value


def parse_binding(text: str) -> Binding:
    """``NODE=DIR[:CLASS]``; without CLASS, ``MODEL_NAME`` of ``DIR/.s2i/environment``."""
    node, equals, rest = text.partition("=")
    if not equals or not node or not rest:
        raise SettingsError(f"--component {text!r}: expected NODE=DIR or NODE=DIR:CLASS")
    directory, _, class_name = rest.partition(":")
    if not os.path.isdir(directory):
        raise SettingsError(f"--component {text!r}: {directory} is not a directory")
    if not class_name:
        class_name = _s2i_model_name(directory) or ""
        if not class_name:
            raise SettingsError(
                f"--component {text!r}: no CLASS given and no MODEL_NAME in {directory}/.s2i/environment"
            )
    return Binding(node, directory, class_name)


def _s2i_model_name(directory: str) -> str | None:
    path = os.path.join(directory, ".s2i", "environment")
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                name, equals, value = line.strip().partition("=")
                if equals and name.strip() == "MODEL_NAME":
                    return value.strip() or None
    except OSError:
        return None
    return None


def parse(argv: Sequence[str], env: Mapping[str, str] | None = None) -> ExecutorSettings:
    """Flags and environment -> ExecutorSettings; SettingsError names the first problem."""
    env = os.environ if env is None else env
    values: dict[str, object] = {
        "log_level": env.get("SELDON_LOG_LEVEL") or "INFO",
        "debug": _env_bool(env.get("SELDON_DEBUG")),
        "logger_default_endpoint": env.get("REQUEST_LOGGER_DEFAULT_ENDPOINT") or DEFAULT_LOGGER_ENDPOINT,
        # Any value at all, "false" included, turns injection on, as in the original.
        "routing_injection": bool(env.get("SELDON_ENABLE_ROUTING_INJECTION")),
        "engine_predictor": env.get("ENGINE_PREDICTOR"),
        "hostname": env.get("POD_NAME", ""),
        "cors_origins": env.get("CORS_ALLOWED_ORIGINS") or "*",
        "cors_headers": env.get("CORS_ALLOWED_HEADERS") or DEFAULT_CORS_HEADERS,
        **_annotations(env.get("SELDON_ANNOTATIONS_FILE") or DEFAULT_ANNOTATIONS_FILE),
    }
    for variable, name, kind in (
        ("SELDON_EXECUTOR_MAX_REQUEST_SIZE", "max_request_size", "int"),
        ("SELDON_EXECUTOR_REST_WORKERS", "rest_workers", "int"),
        ("SELDON_EXECUTOR_REST_THREADS", "rest_threads", "int"),
        ("SELDON_EXECUTOR_REST_READ_TIMEOUT_MS", "rest_read_timeout_s", "ms"),
        ("SELDON_EXECUTOR_REST_IDLE_TIMEOUT_MS", "rest_idle_timeout_s", "ms"),
        ("SELDON_EXECUTOR_REST_MAX_HEADER_BYTES", "rest_max_header_bytes", "int"),
    ):
        if env.get(variable):
            values[name] = _convert(variable, kind, env[variable])
    components: list[Binding] = []
    for name, raw in _tokens(argv):
        field_name, kind = FLAGS[name]
        if kind == "component":
            components.append(parse_binding(raw or ""))
        else:
            values[field_name] = _convert(name, kind, raw)
    values["components"] = tuple(components)
    values["protocol_from_flag"] = "protocol" in values
    for required in ("sdep", "namespace", "predictor"):
        if not values.get(required):
            raise SettingsError(f"Empty --{required} parameter")
    if values.get("protocol", "seldon") not in PROTOCOLS:
        raise SettingsError(f"Unknown protocol {values['protocol']!r} (one of {', '.join(PROTOCOLS)})")
    if values.get("protocol") == "tensorflow":
        raise SettingsError("--protocol tensorflow is not supported by this executor (docs/graphs.md)")
    if values.get("transport", "rest") not in TRANSPORTS:
        raise SettingsError(f"Unknown transport {values['transport']!r} (rest or grpc)")
    if values.get("server_type", "rpc") != "rpc":
        raise SettingsError(
            f"--server_type {values['server_type']!r} is not supported (Kafka mode is not built)"
        )
    level = str(values["log_level"]).upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"Unknown log level {values['log_level']!r}")
    values["log_level"] = "WARNING" if level == "WARN" else level
    nodes = [binding.node for binding in components]
    if len(set(nodes)) != len(nodes):
        raise SettingsError("--component binds the same node twice")
    for port in ("http_port", "grpc_port"):
        if not 0 < int(values.get(port, 1)) < 65536:
            raise SettingsError(f"--{port} must be a port number")
    for positive in (
        "max_request_size",
        "rest_workers",
        "rest_threads",
        "rest_max_header_bytes",
        "logger_workers",
        "log_work_buffer_size",
    ):
        if positive in values and int(values[positive]) < 1:
            raise SettingsError(f"--{positive} must be at least 1")
    return ExecutorSettings(**values)


def _annotations(path: str) -> dict[str, object]:
    """The node-call timeouts and the gRPC message limit from the pod's annotations file, as the
    original read them; an unreadable REST timeout stops the start, as it did there."""
    from seldon_wrapper.settings import load_annotations

    annotations = load_annotations(path) if os.path.exists(path) else {}
    values: dict[str, object] = {}
    rest = annotations.get(ANNOTATION_REST_TIMEOUT)
    if rest:
        try:
            values["rest_timeout_s"] = (int(rest) / 1000.0) or None
        except ValueError:
            raise SettingsError(
                f"annotation {ANNOTATION_REST_TIMEOUT}={rest!r} is not milliseconds"
            ) from None
    for key, name in ((ANNOTATION_GRPC_TIMEOUT, "grpc_timeout_s"), (ANNOTATION_GRPC_MAX_MESSAGE_SIZE, None)):
        raw = annotations.get(key)
        if not raw:
            continue
        try:
            number = int(raw)
        except ValueError:
            continue  # ignored when unreadable, as in the original
        if name:
            values[name] = (number / 1000.0) or None
        elif number > 0:
            values["grpc_max_message_size"] = number
    return values


def _env_bool(value: str | None) -> bool:
    if not value:
        return False
    try:
        return go_bool(value)
    except ValueError:
        return False
