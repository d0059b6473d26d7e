"""The v1 REST answer without Flask, for both REST paths (the Flask routes of rest/app.py and
the WSGI fast path of rest/fast.py): reading a JSON body, the predict answer and its status,
which content types are JSON, the CORS headers. How failures are reported is the error policy
in seldon_wrapper/errors.py."""

from __future__ import annotations

from typing import Any

from seldon_wrapper.codecs import json_arrays, seldon_json
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException


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


def read_json(body: bytes, parse_arrays: bool = False) -> Any:
    """The JSON payload of a request body; ``parse_arrays``: large ndarrays straight to numpy
    (only when no user method sees the request dict)."""
    if not body:
        raise SeldonMicroserviceException("Can't find JSON in data")
    if parse_arrays:
        message = json_arrays.loads_message(body)
        if message is not None:
            return message
    try:
        payload = seldon_json.loads(body)
    except ValueError:
        raise SeldonMicroserviceException("Can't find JSON in data") from None
    if payload is None:
        raise SeldonMicroserviceException("Can't find JSON in data")
    return payload


def predict_answer(dataplane: Dataplane, payload: Any, passthrough: bool = False) -> tuple[int, bytes]:
    """(status, body) of a prediction; failures are raised for the caller's error policy."""
    response = dataplane.predict(payload, seldon_json)
    status = status_from_response(response)
    if passthrough and isinstance(response, (bytes, str)):
        return status, response.encode("utf-8") if isinstance(response, str) else response
    return status, seldon_json.dumps(response)
