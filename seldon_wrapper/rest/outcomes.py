"""Rules both REST paths (Flask routes and the WSGI fast path) apply to an answer: the HTTP
status a predict answer asks for, and how failures are logged (one line, no traceback for a
client mistake)."""

from __future__ import annotations

import logging
from typing import Any

from seldon_wrapper.errors import SeldonMicroserviceException

logger = logging.getLogger(__name__)


def status_from_response(response: Any) -> int:
    """Predict answers may set the HTTP status through ``status.code`` (spec 2.4)."""
    if isinstance(response, dict):
        status = response.get("status")
        if isinstance(status, dict):
            code = status.get("code")
            if isinstance(code, int) and 100 <= code <= 599:
                return code
    return 200


def log_seldon_error(method: str, path: str, exc: SeldonMicroserviceException) -> None:
    """One line: ERROR for server-side failures, INFO (no traceback) for client mistakes."""
    if exc.status_code >= 500:
        logger.error("%s %s failed: %s (%s)", method, path, exc.message, exc.reason)
    else:
        logger.info(
            "%s %s rejected: %s", method, path, exc.message.splitlines()[0][:200] if exc.message else ""
        )


def log_internal_error(method: str, path: str, exc: Exception) -> None:
    logger.error("%s %s failed: %s: %s", method, path, type(exc).__name__, exc)
    logger.debug("Traceback of the failure", exc_info=exc)
