"""The REST request size limit: one WSGI layer in front of every entry (Flask and the fast one).

A declared ``Content-Length`` over the limit is answered 413 before a byte of the body is read;
a chunked body is counted as it streams and refused once it passes the limit, so a worker never
holds more than the limit (plus one read) of a body. The answer closes the connection: what
the client still sends is not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.metrics import MetricsRecorder
from seldon_wrapper.rest import handler
from seldon_wrapper.rest import v2 as rest_v2

#: The label of REST body refusals in ``seldon_api_refused_requests_total``.
REST_BODY = "rest_body"
_READ = 65536


def too_large(limit: int, size: int | None = None) -> SeldonMicroserviceException:
    body = "Request body" if size is None else f"Request body of {size} bytes"
    return SeldonMicroserviceException(f"{body} is larger than the limit of {limit} bytes", status_code=413)


class BodyLimit:
    """WSGI middleware; ``limit`` 0 lets every body through."""

    def __init__(self, app: Callable, limit: int, recorder: MetricsRecorder) -> None:
        self.app = app
        self.limit = limit
        self.recorder = recorder

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if self.limit:
            length = environ.get("CONTENT_LENGTH")
            if length:
                if length.isdigit() and int(length) > self.limit:
                    return self._refuse(environ, start_response, too_large(self.limit, int(length)))
            elif environ.get("wsgi.input_terminated"):  # chunked: no length until it ends
                environ["wsgi.input"] = _Counted(environ["wsgi.input"], self.limit, self.recorder)
        return self.app(environ, start_response)

    def _refuse(self, environ: dict, start_response: Callable, exc: Exception) -> Iterable[bytes]:
        self.recorder.record_refused(REST_BODY)
        method = environ.get("REQUEST_METHOD", "")
        status, headers, body = refused_answer(
            exc, method, environ.get("PATH_INFO", ""), environ.get("HTTP_ORIGIN")
        )
        start_response(f"{status} REQUEST ENTITY TOO LARGE", headers)
        return [body]


def refused_answer(
    exc: Exception, method: str, path: str, origin: str | None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body refusing a request: the Seldon error body, or V2's under /v2/."""
    status, body = rest_v2.any_failure_answer(method, path, exc)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return status, headers + handler.cors_headers(origin, method, None), body


class _Counted:
    """A chunked body's stream that raises 413 once more than ``limit`` bytes came through."""

    def __init__(self, stream: Any, limit: int, recorder: MetricsRecorder) -> None:
        self.stream = stream
        self.limit = limit
        self.recorder = recorder
        self.seen = 0

    def _count(self, data: bytes) -> bytes:
        self.seen += len(data)
        if self.seen > self.limit:
            self.recorder.record_refused(REST_BODY)
            raise too_large(self.limit)
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return self._count(self.stream.read(min(size, self.limit + 1)))
        parts = []
        while chunk := self._count(self.stream.read(_READ)):
            parts.append(chunk)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        return self._count(self.stream.readline(self.limit + 1 if size is None or size < 0 else size))

    def __iter__(self) -> Any:
        return iter(self.readline, b"")
