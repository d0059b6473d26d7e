"""The hot path: JSON predictions answered straight from WSGI, without Flask's request cycle.

``POST`` of a JSON body to ``/api/v1.0/predictions``, ``/api/v0.1/predictions`` or ``/predict``
is what the Seldon executor and most clients send; Flask's routing, request/response objects
and hooks cost more than the rest of such a request. This path gives byte-for-byte the answer
the Flask route gives (same body, status, headers, logs and metrics) and hands everything else
(forms, query strings, other routes, tracing, passthrough, user error handlers) to Flask.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from seldon_wrapper import tracing
from seldon_wrapper.codecs import json_arrays, seldon_json
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException, http_status, log_failure, v1_error_body
from seldon_wrapper.rest import v2 as rest_v2
from seldon_wrapper.rest.outcomes import cors_headers, is_json_mimetype, status_from_response
from seldon_wrapper.v2_adapter import V2Adapter

PATHS = frozenset({"/api/v1.0/predictions", "/api/v0.1/predictions", "/predict"})
V2_INFER = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?/infer$")
# Status lines as werkzeug writes them ("404 NOT FOUND").
_STATUS_LINES = {code: f"{code} {reason.upper()}" for code, reason in HTTP_STATUS_CODES.items()}


def fast_path_applies(dataplane: Dataplane) -> bool:
    """Not with passthrough (raw bodies) or a user error-handler blueprint (Flask must run it)."""
    return not dataplane.settings.payload_passthrough and dataplane.component.model_error_handler is None


class FastPredict:
    """WSGI middleware in front of the Flask app."""

    def __init__(self, app: Callable, dataplane: Dataplane, adapter: V2Adapter | None = None) -> None:
        self.app = app
        self.dataplane = dataplane
        self.adapter = adapter
        self.recorder = dataplane.recorder
        # Large ndarrays may go straight to numpy when no user method sees the request dict.
        self.parse_arrays = dataplane.component.predict.request_is_private

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") == "POST"
            and not environ.get("QUERY_STRING")
            and not tracing.enabled()
        ):
            path = environ.get("PATH_INFO", "")
            if path in PATHS and is_json_mimetype(environ.get("CONTENT_TYPE", "")):
                return self._predict(environ, start_response)
            if self.adapter is not None and path.startswith("/v2/models/"):
                match = V2_INFER.match(path)
                if match:
                    return self._v2_infer(environ, start_response, match.group(1), match.group(2))
        return self.app(environ, start_response)

    def _v2_infer(
        self, environ: dict, start_response: Callable, name: str, version: str | None
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            status, headers, body = rest_v2.infer_response(
                self.adapter,
                name,
                version,
                _read_body(environ),
                environ.get("HTTP_INFERENCE_HEADER_CONTENT_LENGTH"),
                environ.get("HTTP_CONTENT_ENCODING", ""),
            )
        except Exception as exc:
            log_failure(f"POST {environ['PATH_INFO']}", exc)
            status, body = rest_v2.error_response(exc)
            headers = [("Content-Type", "application/json")]
        headers = [*headers, ("Content-Length", str(len(body))), *_cors(environ)]
        start_response(_STATUS_LINES.get(status) or f"{status} UNKNOWN", headers)
        rule = rest_v2.INFER_VERSION_RULE if version else rest_v2.INFER_RULE
        self.recorder.record_request("rest", rule, "POST", str(status), time.perf_counter() - started)
        return [body]

    def _predict(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        path = environ["PATH_INFO"]
        try:
            payload = _read_json(environ, self.parse_arrays)
            response = self.dataplane.predict(payload, seldon_json)
            status = status_from_response(response)
            body = seldon_json.dumps(response)
        except Exception as exc:
            log_failure(f"POST {path}", exc)
            status, body = http_status(exc), seldon_json.dumps(v1_error_body(exc))
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *_cors(environ)]
        start_response(_STATUS_LINES.get(status) or f"{status} UNKNOWN", headers)
        self.recorder.record_request("rest", path, "POST", str(status), time.perf_counter() - started)
        return [body]


def _cors(environ: dict) -> list[tuple[str, str]]:
    return cors_headers(environ.get("HTTP_ORIGIN"), "POST", None)


def _read_body(environ: dict) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    return stream.read(int(length)) if length else stream.read()


def _read_json(environ: dict, parse_arrays: bool) -> Any:
    body = _read_body(environ)
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
