"""The original's ``seldon_core.microservice``: the ``seldon-core-microservice`` entry point and helpers.

``main`` is seldon-wrapper's CLI. ``parse_parameters`` keeps the original's contract: the five
types INT, FLOAT, DOUBLE, STRING and BOOL (seldon-wrapper's JSON type is refused here), and an
unreadable BOOL raises ValueError.
"""

from __future__ import annotations

from typing import Any

from seldon_wrapper import loader
from seldon_wrapper.cli import main
from seldon_wrapper.errors import BAD_PARAMETER, SeldonMicroserviceException
from seldon_wrapper.settings import (
    ANNOTATION_GRPC_MAX_MSG_SIZE,
    ANNOTATION_REST_TIMEOUT,
    DEFAULT_ANNOTATIONS_FILE,
    DEFAULT_REST_TIMEOUT_S,
)
from seldon_wrapper.settings import load_annotations as _load_annotations

__all__ = [
    "ANNOTATIONS_FILE",
    "ANNOTATION_GRPC_MAX_MSG_SIZE",
    "ANNOTATION_REST_TIMEOUT",
    "load_annotations",
    "main",
    "parse_parameters",
]

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


def load_annotations() -> dict[str, str]:
    """The pod annotations in ANNOTATIONS_FILE (read at call time); ``{}`` when there is none."""
    return _load_annotations(ANNOTATIONS_FILE)
