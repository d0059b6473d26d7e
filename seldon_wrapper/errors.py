"""Exceptions shared by every front door, and how they map onto protocol statuses.

The v1 error body is a SeldonMessage whose ``status`` is FAILURE; keeping that shape
means clients that parse every answer as a SeldonMessage keep working on errors.
"""

from __future__ import annotations

from typing import Any

BAD_DATA = "MICROSERVICE_BAD_DATA"
BAD_METRIC = "MICROSERVICE_BAD_METRIC"
BAD_METADATA = "MICROSERVICE_BAD_METADATA"
INTERNAL_ERROR = "MICROSERVICE_INTERNAL_ERROR"
BAD_PARAMETER = "MICROSERVICE_BAD_PARAMETER"


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
        return {"status": {"status": 1, "info": self.message, "code": -1, "reason": self.reason}}


class SeldonNotImplementedError(SeldonMicroserviceException):
    """Raised by SeldonComponent defaults: the dataplane reads it as "method not provided"."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)


class StartupError(Exception):
    """A problem that stops the server from starting; the CLI prints it on one line."""


def error_body(message: str, reason: str) -> dict:
    """The v1 error body for a message that did not come from a SeldonMicroserviceException."""
    return {"status": {"status": 1, "info": message, "code": -1, "reason": reason}}


def grpc_status_name(exc: SeldonMicroserviceException) -> str:
    """The gRPC status for a Seldon error: client mistakes (4xx, bad metrics) are
    INVALID_ARGUMENT, other server-side failures INTERNAL."""
    if exc.status_code < 500 or exc.reason == BAD_METRIC:
        return "INVALID_ARGUMENT"
    return "INTERNAL"
