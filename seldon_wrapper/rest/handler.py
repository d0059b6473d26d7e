"""The v1 REST answer without Flask, for both REST paths (the Flask routes of rest/app.py and
the WSGI fast entry of speedups/fast_entry.py): reading a JSON body, the predict answer and its
status, failures in the v1 body, which content types are JSON, the CORS headers and the
request metric. How failures are logged and mapped is the error policy in errors.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from seldon_wrapper.codecs import seldon_json
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException, http_status, log_failure, v1_error_body
from seldon_wrapper.metrics import MetricsRecorder


def status_from_response(response: Any) -> int:
    """Predict answers may set the HTTP status through ``status.code`` (spec 2.4)."""
    status = response.get("status") if isinstance(response, dict) else None
    code = status.get("code") if isinstance(status, dict) else None
    return code if isinstance(code, int) and 100 <= code <= 599 else 200


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


def read_json(body: bytes, parse: Callable[[bytes], Any] | None = None) -> Any:
    """The JSON payload of a request body. ``parse`` may read it first (large ndarrays straight
    to numpy); when it answers ``None`` the body is parsed as usual."""
    if not body:
        raise SeldonMicroserviceException("Can't find JSON in data")
    if parse is not None:
        message = parse(body)
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


def failure_answer(where: str, exc: Exception) -> tuple[int, bytes]:
    """(status, v1 error body) of a failure, logged by the error policy."""
    log_failure(where, exc)
    return http_status(exc), seldon_json.dumps(v1_error_body(exc))


def record_request(recorder: MetricsRecorder, rule: str, method: str, status: int, started: float) -> None:
    """The request metric of a REST answer (``started``: its ``time.perf_counter()``)."""
    recorder.record_request("rest", rule, method, str(status), time.perf_counter() - started)
