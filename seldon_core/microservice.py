"""The original's ``seldon_core.microservice``: the ``seldon-core-microservice`` entry point and helpers.

``main`` runs seldon-wrapper's CLI after checking ``--parameters`` as the original did (a bad
parameter raises SeldonMicroserviceException before anything starts); ``parse_args`` is the CLI's
parser (the original's flags and more).
``parse_parameters`` keeps the original's contract: the five types INT, FLOAT, DOUBLE, STRING and
BOOL (seldon-wrapper's JSON type is refused here), and an unreadable BOOL raises ValueError.
``setup_logger``, ``MetricsEndpointFilter`` and ``start_servers`` behave as the original's; its
private ``_make_*`` server builders are not provided (``main`` builds seldon-wrapper's servers).
"""

from __future__ import annotations

# The modules and names below the original's module had; most are not used here.
import argparse
import contextlib  # noqa: F401
import importlib
import json
import logging
import multiprocessing
import os
import socket  # noqa: F401
import sys
import time  # noqa: F401
from collections.abc import Callable
from functools import partial  # noqa: F401
from typing import Any, Dict, List, Tuple  # noqa: F401, UP035

from seldon_core import __version__  # noqa: F401
from seldon_core import wrapper as seldon_microservice
from seldon_core.flask_utils import (  # noqa: F401
    ANNOTATION_REST_TIMEOUT,
    SeldonMicroserviceException,
)
from seldon_core.gunicorn_utils import (  # noqa: F401
    StandaloneApplication,
    UserModelApplication,
    accesslog,
    post_worker_init,
    threads,
    worker_exit,
)
from seldon_core.metrics import SeldonMetrics  # noqa: F401
from seldon_core.utils import getenv_as_bool, setup_tracing  # noqa: F401
from seldon_wrapper import cli, loader
from seldon_wrapper.cli import build_parser
from seldon_wrapper.errors import BAD_PARAMETER
from seldon_wrapper.settings import (
    ANNOTATION_GRPC_MAX_MSG_SIZE,
    DEFAULT_ANNOTATIONS_FILE,
    DEFAULT_REST_TIMEOUT_S,
    Settings,
    parse_annotations,
    parse_bool,
)

__all__ = [
    "ANNOTATIONS_FILE",
    "ANNOTATION_GRPC_MAX_MSG_SIZE",
    "ANNOTATION_REST_TIMEOUT",
    "MetricsEndpointFilter",
    "load_annotations",
    "main",
    "parse_args",
    "parse_parameters",
    "setup_logger",
    "start_servers",
    "strtobool",
]

logger = logging.getLogger(__name__)

# USE_MULTIPROCESS_PACKAGE=true: start_servers uses the ``multiprocess`` package when installed.
USE_MULTIPROCESS_ENV_NAME = "USE_MULTIPROCESS_PACKAGE"
USE_MULTIPROCESS = getenv_as_bool(USE_MULTIPROCESS_ENV_NAME, default=False)
mp: Any = multiprocessing
if USE_MULTIPROCESS:
    with contextlib.suppress(ImportError):
        mp = importlib.import_module("multiprocess")

ANNOTATIONS_FILE = DEFAULT_ANNOTATIONS_FILE
DEFAULT_ANNOTATION_REST_TIMEOUT = DEFAULT_REST_TIMEOUT_S
PARAMETERS_ENV_NAME = "PREDICTIVE_UNIT_PARAMETERS"
HTTP_SERVICE_PORT_ENV_NAME = "PREDICTIVE_UNIT_HTTP_SERVICE_PORT"
GRPC_SERVICE_PORT_ENV_NAME = "PREDICTIVE_UNIT_GRPC_SERVICE_PORT"
METRICS_SERVICE_PORT_ENV_NAME = "PREDICTIVE_UNIT_METRICS_SERVICE_PORT"
FILTER_METRICS_ACCESS_LOGS_ENV_NAME = "FILTER_METRICS_ACCESS_LOGS"
LOG_LEVEL_ENV = "SELDON_LOG_LEVEL"
DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_HTTP_PORT = 9000
DEFAULT_GRPC_PORT = 5000
DEFAULT_METRICS_PORT = 6000
DEBUG_ENV = "SELDON_DEBUG"
GUNICORN_ACCESS_LOG_ENV = "GUNICORN_ACCESS_LOG"

_ORIGINAL_TYPES = ("INT", "FLOAT", "DOUBLE", "STRING", "BOOL")


def parse_parameters(parameters: list[dict]) -> dict[str, Any]:
    """``[{"name", "value", "type"}]`` -> constructor kwargs.

    Raises SeldonMicroserviceException (reason MICROSERVICE_BAD_PARAMETER) for an unknown type or
    a value that does not convert, and ValueError for a BOOL that is not a truth value.
    """
    kwargs: dict[str, Any] = {}
    for param in parameters:
        ptype = param.get("type") if isinstance(param, dict) else None
        if ptype not in _ORIGINAL_TYPES:
            raise SeldonMicroserviceException(
                f"Bad model parameter type: {ptype} valid are INT, FLOAT, DOUBLE, STRING, BOOL",
                reason=BAD_PARAMETER,
            )
        try:
            kwargs.update(loader.parse_parameters([param]))
        except SeldonMicroserviceException as exc:
            if ptype == "BOOL" and "value" in param:
                raise ValueError(f"invalid truth value {str(param['value']).lower()!r}") from exc
            raise
    return kwargs


def strtobool(value: str) -> int:
    """1 for a true word (y, yes, t, true, on, 1), 0 for a false one; ValueError otherwise.

    The original used ``distutils.util.strtobool``; distutils is gone from Python 3.12.
    """
    try:
        return int(parse_bool(value))
    except ValueError:
        raise ValueError(f"invalid truth value {str(value).lower()!r}") from None


def load_annotations() -> dict[str, str]:
    """The pod annotations in ANNOTATIONS_FILE; ``{}`` when there is none.

    ``ANNOTATIONS_FILE``, ``os`` and ``open`` are this module's, looked up when called.
    """
    try:
        if not os.path.isfile(ANNOTATIONS_FILE):
            return {}
        with open(ANNOTATIONS_FILE, encoding="utf-8") as handle:
            return parse_annotations(handle)
    except Exception as exc:  # as the original: log it and carry on without annotations
        logger.error("Failed to open annotations file %s: %s", ANNOTATIONS_FILE, exc)
        return {}


def parse_args() -> tuple[argparse.Namespace, list[str]]:
    """``sys.argv[1:]`` parsed with the CLI's flags (defaults from the environment): (args, unknown)."""
    return build_parser(Settings.from_env()).parse_known_args()


class MetricsEndpointFilter(logging.Filter):
    """Drops access-log lines of metrics scrapes (``wrapper.METRICS_ENDPOINT``, read per record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return seldon_microservice.METRICS_ENDPOINT not in record.getMessage()


def setup_logger(log_level: str, debug_mode: bool) -> logging.Logger:
    """Set this module's, Flask's and the root logger's level (SELDON_LOG_LEVEL wins over
    ``log_level``) and filter metrics scrapes out of access logs unless FILTER_METRICS_ACCESS_LOGS
    is false (default: filter unless ``debug_mode``). Raises ValueError for an unknown level."""
    level_name = os.environ.get(LOG_LEVEL_ENV, log_level.upper())
    level = getattr(logging, level_name, None)
    if not isinstance(level, int):
        raise ValueError("Invalid log level: %s", log_level)
    logger.setLevel(level)
    werkzeug_logger = logging.getLogger("werkzeug")
    werkzeug_logger.setLevel(level)
    if getenv_as_bool(FILTER_METRICS_ACCESS_LOGS_ENV_NAME, default=not debug_mode):
        werkzeug_logger.addFilter(MetricsEndpointFilter())
        logging.getLogger("gunicorn.access").addFilter(MetricsEndpointFilter())
    seldon_microservice.logger.setLevel(level)
    logging.getLogger().setLevel(level)
    for handler in logger.handlers:
        handler.setLevel(level)
    return logger


def start_servers(
    target1: Callable[[], Any],
    target2: Callable[[], Any] | None,
    target3: Callable[[], Any] | None,
    metrics_target: Callable[[], Any] | None,
) -> None:
    """Run ``target1`` here and each other target given in a child process; wait for the children.

    ``target2`` (the second API server) is not a daemon; ``target3`` and ``metrics_target`` are.
    """
    children = []
    for target, daemon in ((target2, False), (target3, True), (metrics_target, True)):
        if target:
            child = mp.Process(target=target, daemon=daemon)
            child.start()
            children.append(child)
    target1()
    for child in children:
        child.join()


def main() -> None:
    """``seldon-core-microservice`` from ``sys.argv``; raises SeldonMicroserviceException for a bad
    ``--parameters`` entry before starting anything, as the original did."""
    args, _ = parse_args()
    parse_parameters(json.loads(args.parameters))
    cli.main(sys.argv[1:])
