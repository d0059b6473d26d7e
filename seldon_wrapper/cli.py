"""``seldon-core-microservice``: argv + environment -> Settings, then hand over to serving."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from seldon_wrapper import logs
from seldon_wrapper.errors import StartupError
from seldon_wrapper.settings import LOG_LEVELS, SERVICE_TYPES, V2_METHODS, Settings, parse_bool

logger = logging.getLogger("seldon_wrapper.cli")

LOG_FORMAT = logs.TEXT_FORMAT


def str_to_bool(value: str) -> bool:
    """Flag booleans: ``--debug False`` means False (the original took any text as True)."""
    try:
        return parse_bool(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a boolean, got {value!r}") from None


def build_parser(defaults: Settings) -> argparse.ArgumentParser:
    """The original's flags with environment-derived defaults, plus ``--host``."""
    parser = argparse.ArgumentParser(
        prog="seldon-core-microservice",
        description="Serve a Seldon Core v1 Python model class over REST, gRPC and metrics ports.",
    )
    parser.add_argument("interface_name", help="Module (file and class share the name) or pkg.module.Class")
    parser.add_argument("--service-type", choices=SERVICE_TYPES, default="MODEL")
    parser.add_argument("--persistence", nargs="?", default=0, const=1, type=int)
    parser.add_argument("--parameters", default=defaults.parameters)
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="INFO")
    parser.add_argument("--debug", nargs="?", type=str_to_bool, const=True, default=defaults.debug)
    parser.add_argument("--tracing", nargs="?", type=int, const=1, default=defaults.tracing)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--max-requests", type=int, default=defaults.max_requests)
    parser.add_argument("--max-requests-jitter", type=int, default=defaults.max_requests_jitter)
    parser.add_argument("--keepalive", type=int, default=defaults.keepalive)
    parser.add_argument("--single-threaded", type=int, default=defaults.single_threaded)
    parser.add_argument("--host", default=defaults.host, help="address every server binds (default 0.0.0.0)")
    parser.add_argument("--http-port", type=int, default=defaults.http_port)
    parser.add_argument(
        "--http-socket",
        default=defaults.http_socket,
        help="also serve REST on this Unix socket path (default: none)",
    )
    parser.add_argument("--grpc-port", type=int, default=defaults.grpc_port)
    parser.add_argument("--metrics-port", type=int, default=defaults.metrics_port)
    parser.add_argument("--pidfile", default=None)
    parser.add_argument("--access-log", nargs="?", type=str_to_bool, const=True, default=defaults.access_log)
    parser.add_argument("--grpc-threads", type=int, default=defaults.grpc_threads)
    parser.add_argument("--grpc-workers", type=int, default=defaults.grpc_workers)
    parser.add_argument(
        "--grpc-max-message-size",
        type=int,
        default=defaults.grpc_max_message_size,
        help="max gRPC message size in bytes, sent and received (overrides the annotation)",
    )
    parser.add_argument(
        "--max-request-size",
        type=int,
        default=defaults.max_request_size,
        help="largest REST request body in bytes, else 413 (default 32 MiB; 0: no limit)",
    )
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=defaults.worker_connections,
        help="open connections per REST worker; more wait in the backlog (default 1000)",
    )
    parser.add_argument(
        "--request-header-timeout",
        type=float,
        default=defaults.request_header_timeout,
        help="seconds to send a request's headers once begun, else 408 (default 10)",
    )
    parser.add_argument(
        "--request-body-timeout",
        type=float,
        default=defaults.request_body_timeout,
        help="seconds to send a body, plus 1 per --request-body-min-rate bytes, else 408 (default 10)",
    )
    parser.add_argument(
        "--request-body-min-rate",
        type=int,
        default=defaults.request_body_min_rate,
        help="bytes per second a slow body must keep up to earn more time (default 16384)",
    )
    parser.add_argument(
        "--grace-period",
        type=float,
        default=defaults.grace_period,
        help="seconds accepted REST and gRPC requests get to finish on SIGTERM (default 25)",
    )
    parser.add_argument(
        "--grpc-grace-period",
        type=float,
        default=defaults.grpc_grace_period,
        help="the gRPC grace period on its own (default: --grace-period)",
    )
    parser.add_argument(
        "--v2-model-name",
        default=defaults.v2_model_name,
        help="model name on the V2 API (default: PREDICTIVE_UNIT_ID, else metadata name, else class name)",
    )
    parser.add_argument(
        "--v2-method",
        choices=V2_METHODS,
        default=defaults.v2_method,
        help="user method V2 inference calls (auto: predict, else transform_input, else transform_output)",
    )
    parser.add_argument(
        "--max-batch-size",
        type=int,
        default=defaults.max_batch_size,
        help="most requests one batched predict call takes (default 0: batching off)",
    )
    parser.add_argument(
        "--max-batch-time-ms",
        type=float,
        default=defaults.max_batch_time_ms,
        help="how long a batch may wait to fill after a batched call, in ms (default 2)",
    )
    parser.add_argument(
        "--speedups",
        nargs="?",
        type=str_to_bool,
        const=True,
        default=defaults.speedups,
        help="serve REST with the speed machinery (default true; false: Flask and Gunicorn's own workers)",
    )
    return parser


def parse_settings(argv: Sequence[str], env=None) -> Settings:
    """Resolve argv and the environment into one Settings; raise SystemExit on bad input."""
    defaults = Settings.from_env(env)
    parser = build_parser(defaults)
    args, unknown = parser.parse_known_args(list(argv))
    if unknown:
        logger.error(
            "Unknown args %s. Note since 1.5.0 this CLI does not take API type (REST, GRPC)", unknown
        )
        sys.exit(-1)
    return defaults.with_(**vars(args))


def configure_logging(settings: Settings) -> None:
    """Apply the effective level and format (one line per event)."""
    level_name = settings.effective_log_level
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        raise StartupError(f"Invalid log level: {level_name}")
    logs.configure(level, settings.log_format == "json")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``seldon-core-microservice`` console script."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    argv = sys.argv[1:] if argv is None else argv
    try:
        settings = parse_settings(argv)
        configure_logging(settings)
    except (StartupError, ValueError) as exc:
        logger.error("Start-up failed: %s", exc)
        sys.exit(1)
    from seldon_wrapper.version import __version__

    logger.info("Starting seldon-wrapper %s for %s", __version__, settings.interface_name)
    if settings.persistence:
        logger.error("Persistence: ignored, persistence is deprecated")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.append(cwd)
    from seldon_wrapper import metrics_dir

    owned_metrics_dir = metrics_dir.prepare()  # before anything imports prometheus-client
    from seldon_wrapper import serving

    try:
        code = serving.run(settings, owned_metrics_dir)
    except StartupError as exc:
        if settings.effective_log_level == "DEBUG":
            logger.exception("Start-up failed: %s", exc)
        else:
            logger.error("Start-up failed: %s", exc)
        sys.exit(1)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
