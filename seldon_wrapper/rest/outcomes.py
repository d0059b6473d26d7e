"""HTTP rules both REST paths (Flask routes and the WSGI fast path) apply: which content types
are JSON, the CORS headers, the status a predict answer asks for. How failures are reported is
the error policy in seldon_wrapper/errors.py."""

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


JSON_MIMETYPE = "application/json"
_CORS_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def is_json_mimetype(content_type: str) -> bool:
    """``application/json`` or any ``application/*+json``, parameters and case ignored."""
    mimetype = content_type.split(";", 1)[0].strip().lower()
    return mimetype == JSON_MIMETYPE or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def cors_headers(origin: str | None, method: str, requested_headers: str | None) -> list[tuple[str, str]]:
    """Every answer allows any origin (the caller's own when it names one), as the original."""
    if origin:
        headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
    else:
        headers = [("Access-Control-Allow-Origin", "*")]
    if method == "OPTIONS":
        headers.append(("Access-Control-Allow-Methods", _CORS_METHODS))
        if requested_headers:
            headers.append(("Access-Control-Allow-Headers", requested_headers))
    return headers
