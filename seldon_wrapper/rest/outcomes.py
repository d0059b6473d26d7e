"""The HTTP status a predict answer asks for, read by both REST paths (Flask routes and the
WSGI fast path). How failures are reported is the error policy in seldon_wrapper/errors.py."""

from __future__ import annotations

from typing import Any


def status_from_response(response: Any) -> int:
    """Predict answers may set the HTTP status through ``status.code`` (spec 2.4)."""
    if isinstance(response, dict):
        status = response.get("status")
        if isinstance(status, dict):
            code = status.get("code")
            if isinstance(code, int) and 100 <= code <= 599:
                return code
    return 200
