"""Exceptions shared by every front door, and the one policy for reporting them: log line,
v1 and V2 body shapes, HTTP and gRPC statuses.

The v1 error body is a SeldonMessage whose ``status`` is FAILURE; keeping that shape
means clients that parse every answer as a SeldonMessage keep working on errors.
"""

from __future__ import annotations

import logging
from typing import Any

BAD_DATA = "MICROSERVICE_BAD_DATA"
BAD_METRIC = "MICROSERVICE_BAD_METRIC"
BAD_METADATA = "MICROSERVICE_BAD_METADATA"
INTERNAL_ERROR = "MICROSERVICE_INTERNAL_ERROR"
BAD_PARAMETER = "MICROSERVICE_BAD_PARAMETER"

logger = logging.getLogger(__name__)


class SeldonMicroserviceException(Exception):
    """An error the wrapper reports to the client with a status code and a reason.

    Like the original, ``Exception.__init__`` gets no arguments, so ``str(exc)`` is empty;
    the text lives in ``message``. ``status_code`` is the HTTP status (400 unless given).
    """

    status_code = 400

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        payload: Any = None,
        reason: str = BAD_DATA,
    ) -> None:
        Exception.__init__(self)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.payload = payload
        self.reason = reason

    def to_dict(self) -> dict:
        return error_body(self.message, self.reason)


class SeldonNotImplementedError(SeldonMicroserviceException):
    """Raised by SeldonComponent defaults: the dataplane reads it as "method not provided"."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class StartupError(Exception):
    """A problem that stops the server from starting; the CLI prints it on one line."""


# -- the one error policy: how every front door reports a failure -------------------------

_CLIENT_LOG_CHARS = 200
# V2 gRPC statuses named by the Open Inference Protocol for these HTTP statuses.
_V2_GRPC_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 503: "UNAVAILABLE"}


def log_failure(where: str, exc: BaseException) -> None:
    """One line: INFO for a client mistake or a 503 (not ready, shutting down: first line, 200
    characters, no traceback), ERROR for a failure of ours or of user code (traceback at DEBUG).
    ``where``: ``POST /predict``, ..."""
    if isinstance(exc, SeldonMicroserviceException):
        if exc.status_code < 500 or exc.status_code == 503:
            first = exc.message.splitlines()[0][:_CLIENT_LOG_CHARS] if exc.message else ""
            logger.info("%s rejected: %s", where, first)
        else:
            logger.error("%s failed: %s (%s)", where, exc.message, exc.reason)
        return
    logger.error("%s failed: %s: %s", where, type(exc).__name__, exc)
    logger.debug("Traceback of the failure", exc_info=exc)


def http_status(exc: BaseException) -> int:
    """The HTTP status of a failure: the Seldon error's own, else 500."""
    return exc.status_code if isinstance(exc, SeldonMicroserviceException) else 500


def error_body(message: str, reason: str) -> dict:
    """The v1 error body: a SeldonMessage whose ``status`` is FAILURE."""
    return {"status": {"status": 1, "info": message, "code": -1, "reason": reason}}


def v1_error_body(exc: BaseException) -> dict:
    """The v1 body for any failure (an unexpected exception is MICROSERVICE_INTERNAL_ERROR)."""
    if isinstance(exc, SeldonMicroserviceException):
        return exc.to_dict()
    return error_body(str(exc), INTERNAL_ERROR)


def v2_error_body(exc: BaseException) -> dict:
    """The V2 body ``{"error": ...}`` (tritonclient reads the ``error`` key)."""
    if isinstance(exc, SeldonMicroserviceException):
        return {"error": exc.message}
    return {"error": f"{type(exc).__name__}: {exc}"}


def grpc_status(exc: BaseException, v2: bool = False) -> tuple[str, str]:
    """(gRPC status name, details) for a failure on the v1 or the V2 gRPC service.

    v1: client mistakes and bad custom metrics are INVALID_ARGUMENT, other Seldon errors
    INTERNAL, and an unexpected exception UNKNOWN with grpcio's own wording, as the original.
    V2: the protocol's statuses for 400/404/503, then the same split, and INTERNAL.
    """
    if isinstance(exc, SeldonMicroserviceException):
        status = exc.status_code
        if v2 and status in _V2_GRPC_STATUS:
            return _V2_GRPC_STATUS[status], exc.message
        if status < 500 or (not v2 and exc.reason == BAD_METRIC):
            return "INVALID_ARGUMENT", exc.message
        return "INTERNAL", exc.message
    if v2:
        return "INTERNAL", f"{type(exc).__name__}: {exc}"
    return "UNKNOWN", f"Exception calling application: {exc}"
