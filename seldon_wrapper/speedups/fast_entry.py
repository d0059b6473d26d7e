"""The hot path: JSON predictions answered straight from WSGI, without Flask's request cycle.

``POST`` of a JSON body to ``/api/v1.0/predictions``, ``/api/v0.1/predictions``, ``/predict``
or a V2 ``infer`` route is what most clients send, and ``/transform-input``,
``/transform-output``, ``/route`` and ``/aggregate`` what a graph's executor sends; Flask's routing,
request/response objects and hooks cost more than the rest of such a request. This entry only
decides which requests it takes: the answer is the Flask route's own (rest/handler.py,
rest/v2.py), byte for byte, with the same logs and metrics. Everything else (forms, query
strings, other routes, tracing, passthrough, user error handlers) goes to Flask.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from werkzeug.http import HTTP_STATUS_CODES

from seldon_wrapper import tracing
from seldon_wrapper.codecs import seldon_json
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.rest import handler
from seldon_wrapper.rest import v2 as rest_v2
from seldon_wrapper.speedups.ndarrays import NdarrayParser
from seldon_wrapper.v2_adapter import V2Adapter

PATHS = frozenset({"/api/v1.0/predictions", "/api/v0.1/predictions", "/predict"})
V2_INFER = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?/infer$")
# Status lines as werkzeug writes them ("404 NOT FOUND").
_STATUS_LINES = {code: f"{code} {reason.upper()}" for code, reason in HTTP_STATUS_CODES.items()}


def applies(dataplane: Dataplane) -> bool:
    """Not with passthrough (raw bodies) or a user error-handler blueprint (Flask must run it)."""
    return not dataplane.settings.payload_passthrough and dataplane.component.model_error_handler is None


class FastEntry:
    """WSGI middleware in front of the Flask app."""

    def __init__(
        self, app: Callable, dataplane: Dataplane, adapter: V2Adapter, ndarrays: NdarrayParser
    ) -> None:
        self.app = app
        self.dataplane = dataplane
        self.adapter = adapter
        self.recorder = dataplane.recorder
        # Large ndarrays may go straight to numpy when no user method sees the request dict.
        self.parse = ndarrays.loads_message if dataplane.component.predict.request_is_private else None
        self.parse_v2 = ndarrays.loads_v2_request  # V2 users only ever see arrays
        # A graph's calls other than predict: a message (a list of them for aggregate) in, one out.
        self.data_routes = {
            "/transform-input": dataplane.transform_input,
            "/transform-output": dataplane.transform_output,
            "/route": dataplane.route,
            "/aggregate": dataplane.aggregate,
        }

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") == "POST"
            and not environ.get("QUERY_STRING")
            and not tracing.enabled()
        ):
            path = environ.get("PATH_INFO", "")
            if path in PATHS and handler.is_json_mimetype(environ.get("CONTENT_TYPE", "")):
                return self._predict(environ, start_response)
            operation = self.data_routes.get(path)
            if operation is not None and handler.is_json_mimetype(environ.get("CONTENT_TYPE", "")):
                return self._data(environ, start_response, operation)
            if path.startswith("/v2/models/"):
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
                self.parse_v2,
            )
        except Exception as exc:
            status, body = rest_v2.failure_answer(f"POST {environ['PATH_INFO']}", exc)
            headers = [("Content-Type", "application/json")]
        rule = rest_v2.INFER_VERSION_RULE if version else rest_v2.INFER_RULE
        return self._answer(environ, start_response, status, headers, body, rule, started)

    def _predict(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        path = environ["PATH_INFO"]
        try:
            payload = handler.read_json(_read_body(environ), self.parse)
            status, body = handler.predict_answer(self.dataplane, payload)
        except Exception as exc:
            status, body = handler.failure_answer(f"POST {path}", exc)
        headers = [("Content-Type", "application/json")]
        return self._answer(environ, start_response, status, headers, body, path, started)

    def _data(self, environ: dict, start_response: Callable, operation: Callable) -> Iterable[bytes]:
        """The Flask data routes' answer: 200 and the operation's message (failures as there)."""
        started = time.perf_counter()
        path = environ["PATH_INFO"]
        try:
            status, body = (
                200,
                seldon_json.dumps(operation(handler.read_json(_read_body(environ)), seldon_json)),
            )
        except Exception as exc:
            status, body = handler.failure_answer(f"POST {path}", exc)
        headers = [("Content-Type", "application/json")]
        return self._answer(environ, start_response, status, headers, body, path, started)

    def _answer(
        self,
        environ: dict,
        start_response: Callable,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        rule: str,
        started: float,
    ) -> Iterable[bytes]:
        cors = handler.cors_headers(environ.get("HTTP_ORIGIN"), "POST", None)
        headers = [*headers, ("Content-Length", str(len(body))), *cors]
        start_response(_STATUS_LINES.get(status) or f"{status} UNKNOWN", headers)
        handler.record_request(self.recorder, rule, "POST", status, started)
        return [body]


def _read_body(environ: dict) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    return stream.read(int(length)) if length else stream.read()
