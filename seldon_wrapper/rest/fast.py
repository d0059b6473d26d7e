"""The hot path: JSON predictions answered straight from WSGI, without Flask's request cycle.

``POST`` of a JSON body to ``/api/v1.0/predictions``, ``/api/v0.1/predictions`` or ``/predict``
is what the Seldon executor and most clients send; Flask's routing, request/response objects
and hooks cost more than the rest of such a request. This path gives byte-for-byte the answer
the Flask route gives (same body, status, headers, logs and metrics) and hands everything else
(forms, query strings, other routes, tracing, passthrough, user error handlers) to Flask.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from seldon_wrapper import tracing
from seldon_wrapper.codecs import seldon_json
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import INTERNAL_ERROR, SeldonMicroserviceException, error_body

PATHS = frozenset({"/api/v1.0/predictions", "/api/v0.1/predictions", "/predict"})
_STATUS_LINES = {code: f"{code} {reason}" for code, reason in HTTP_STATUS_CODES.items()}


def fast_path_applies(dataplane: Dataplane) -> bool:
    """Not with passthrough (raw bodies) or a user error-handler blueprint (Flask must run it)."""
    return not dataplane.settings.payload_passthrough and dataplane.component.model_error_handler is None


def _is_json(content_type: str) -> bool:
    mimetype = content_type.split(";", 1)[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


class FastPredict:
    """WSGI middleware in front of the Flask app."""

    def __init__(self, app: Callable, dataplane: Dataplane) -> None:
        self.app = app
        self.dataplane = dataplane
        self.recorder = dataplane.recorder

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or environ.get("PATH_INFO") not in PATHS
            or environ.get("QUERY_STRING")
            or not _is_json(environ.get("CONTENT_TYPE", ""))
            or tracing.enabled()
        ):
            return self.app(environ, start_response)
        return self._predict(environ, start_response)

    def _predict(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        from seldon_wrapper.rest.app import _status_from_response, log_internal_error, log_seldon_error

        started = time.perf_counter()
        path = environ["PATH_INFO"]
        try:
            payload = _read_json(environ)
            response = self.dataplane.predict(payload, seldon_json)
            status = _status_from_response(response)
            body = seldon_json.dumps(response)
        except SeldonMicroserviceException as exc:
            log_seldon_error("POST", path, exc)
            status, body = exc.status_code, seldon_json.dumps(exc.to_dict())
        except Exception as exc:
            log_internal_error("POST", path, exc)
            status, body = 500, seldon_json.dumps(error_body(str(exc), INTERNAL_ERROR))
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        origin = environ.get("HTTP_ORIGIN")
        if origin:
            headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        else:
            headers.append(("Access-Control-Allow-Origin", "*"))
        start_response(_STATUS_LINES.get(status) or f"{status} UNKNOWN", headers)
        self.recorder.record_request("rest", path, "POST", str(status), time.perf_counter() - started)
        return [body]


def _read_json(environ: dict) -> Any:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    body = stream.read(int(length)) if length else stream.read()
    if not body:
        raise SeldonMicroserviceException("Can't find JSON in data")
    try:
        payload = seldon_json.loads(body)
    except ValueError:
        raise SeldonMicroserviceException("Can't find JSON in data") from None
    if payload is None:
        raise SeldonMicroserviceException("Can't find JSON in data")
    return payload
