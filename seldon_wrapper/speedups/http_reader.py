"""A connection's HTTP/1.1 requests, gathered from its bytes as they arrive (httptools).

The REST worker reads without blocking: it hands this reader whatever a connection sent and
runs the app only for requests that are complete. A client that trickles its header block or
its body therefore holds a connection slot and the bytes it sent, never the worker; the
header and body deadlines free the slot. Limits are checked while the bytes come: a declared
``Content-Length`` over the body limit is refused before a byte of the body is read, a
chunked body once it passes the limit, an endless header block once it passes Gunicorn's
header limits.

``Request`` carries what Gunicorn's WSGI glue (``gunicorn.http.wsgi.create``) and its
``Response`` read from a request, so the environ and the answer stay Gunicorn's own.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httptools

#: Gunicorn's largest request line when ``limit_request_line`` is 0 ("unlimited").
_MAX_LINE = 8190
#: Header fields and field size assumed when Gunicorn's limits are 0.
_MAX_FIELDS = 32768
_MAX_FIELD_SIZE = 65536

IDLE, HEADERS, BODY = 0, 1, 2


@dataclass(frozen=True)
class ReadLimits:
    """How long and how much a client may take to send one request (docs/reliability.md)."""

    header_timeout: float = 10.0
    body_timeout: float = 10.0
    body_min_rate: int = 65536
    max_body: int = 0
    request_line: int = 4094
    fields: int = 100
    field_size: int = 8190
    header_map: str = "drop"

    @classmethod
    def from_gunicorn(cls, cfg: Any, **ours: Any) -> ReadLimits:
        """Gunicorn's header limits (its flags keep their meaning) with our deadlines and body limit."""
        return cls(
            request_line=cfg.limit_request_line,
            fields=cfg.limit_request_fields,
            field_size=cfg.limit_request_field_size,
            header_map=getattr(cfg, "header_map", "drop"),
            **ours,
        )

    def head_bytes(self) -> int:
        """Most bytes a header block may take before it is refused."""
        line = self.request_line or _MAX_LINE
        fields = self.fields or _MAX_FIELDS
        return line + 2 + fields * ((self.field_size or _MAX_FIELD_SIZE) + 2) + 2


class Refusal(Exception):
    """A request that will not be served: the answer says why, then the connection closes.

    ``kind`` names the cause for logs and metrics: ``malformed`` (400), ``request_line``
    (414), ``headers`` (431), ``rest_body`` (413) or ``timeout`` (408).
    """

    def __init__(
        self, status: int, reason: str, message: str, kind: str, method: str = "", path: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.kind = kind
        self.method = method
        self.path = path


class Request:
    """One complete request, with the attributes Gunicorn's WSGI glue and Response read."""

    __slots__ = (
        "method",
        "uri",
        "path",
        "query",
        "fragment",
        "version",
        "headers",
        "body",
        "scheme",
        "keep_alive",
        "must_close",
        "proxy_protocol_info",
        "_expected_100_continue",
    )

    def __init__(self, method: str, uri: str, version: tuple[int, int], headers: list, scheme: str) -> None:
        self.method = method
        self.uri = uri
        if uri.startswith("/") and not uri.startswith("//"):
            rest, _, self.fragment = uri.partition("#")
            self.path, _, self.query = rest.partition("?")
        else:  # absolute form, "*", or a path starting with "//"
            parts = urlsplit(uri)
            self.path, self.query, self.fragment = parts.path or "", parts.query or "", parts.fragment or ""
        self.version = version
        self.headers = headers
        self.body: io.BytesIO | None = None  # set once the whole body has arrived
        self.scheme = scheme
        self.keep_alive = True
        self.must_close = False
        self.proxy_protocol_info = None
        self._expected_100_continue = False  # the reader already answered it

    def should_close(self) -> bool:
        return self.must_close or not self.keep_alive


def _too_many_headers(which: str) -> Refusal:
    return Refusal(431, "Request Header Fields Too Large", f"Error parsing headers: '{which}'", "headers")


class RequestReader:
    """Feeds a connection's bytes to llhttp; complete requests queue in ``ready``.

    ``send_continue`` is called when a client waits for ``100 Continue`` before its body.
    """

    def __init__(self, limits: ReadLimits, scheme: str, send_continue: Callable[[], None]) -> None:
        self.limits = limits
        self.scheme = scheme
        self.send_continue = send_continue
        self.parser = httptools.HttpRequestParser(self)
        self.ready: deque[Request] = deque()
        self.state = IDLE
        self.finished = False  # a request closing the connection (or an upgrade) was read
        self._now = 0.0
        self._reset()

    def _reset(self) -> None:
        self.started = 0.0
        self.head_size = 0
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.request: Request | None = None
        self.chunks: list[bytes] = []
        self.received = 0

    @property
    def busy(self) -> bool:
        """A request has begun and is not complete yet."""
        return self.state != IDLE

    def feed(self, data: bytes | memoryview, now: float) -> None:
        """Take what arrived; raises Refusal when the request cannot be served."""
        if self.finished:
            return  # the connection closes once what it asked is answered
        self._now = now
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, Refusal):
                raise exc.__context__ from None
            raise self._malformed(str(exc.__context__ or exc)) from None
        except httptools.HttpParserUpgrade:
            # Gunicorn serves such a request as a plain one; so do we, then close.
            self.finished = True
            for request in self.ready:
                request.must_close = True
            return
        except httptools.HttpParserError as exc:
            if self.finished:
                return  # bytes after a request that closes the connection are not read
            raise self._malformed(str(exc)) from None
        if self.state == HEADERS:
            self.head_size += len(data)
            if self.head_size > self.limits.head_bytes():
                raise _too_many_headers("limit request header block size")

    def expired(self, now: float) -> Refusal | None:
        """The refusal due when a request in progress has passed its deadline, else None."""
        if self.state == HEADERS:
            if now - self.started >= self.limits.header_timeout:
                return self._timeout("Request headers")
        elif self.state == BODY:
            allowed = self.limits.body_timeout + self.received / max(1, self.limits.body_min_rate)
            if now - self.started >= allowed:
                return self._timeout("Request body")
        return None

    def _timeout(self, what: str) -> Refusal:
        request = self.request
        return Refusal(
            408,
            "REQUEST TIMEOUT",
            f"{what} not received in time",
            "timeout",
            request.method if request else "",
            request.path if request else "",
        )

    def _malformed(self, message: str) -> Refusal:
        return Refusal(400, "Bad Request", f"Invalid request: {message}", "malformed")

    # -- llhttp callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._reset()
        self.state = HEADERS
        self.started = self._now

    def on_url(self, url: bytes) -> None:
        self.url += url
        limit = self.limits.request_line or _MAX_LINE
        if len(self.url) > limit:
            raise Refusal(414, "URI Too Long", f"Request line longer than {limit} bytes", "request_line")

    def on_header(self, name: bytes, value: bytes) -> None:
        limits = self.limits
        if limits.field_size and len(name) + len(value) + 2 > limits.field_size:
            raise _too_many_headers("limit request headers fields size")
        if limits.fields and len(self.headers) >= limits.fields:
            raise _too_many_headers("limit request headers fields")
        key = name.decode("latin-1").upper()
        if "_" in key:  # ambiguous with "-" once in the environ (Gunicorn's header_map)
            if limits.header_map == "refuse":
                raise self._malformed(f"Invalid header name {key!r}")
            if limits.header_map != "dangerous":
                return
        self.headers.append((key, value.decode("latin-1").strip(" \t")))

    def on_headers_complete(self) -> None:
        parser = self.parser
        major, _, minor = parser.get_http_version().partition(".")
        request = Request(
            parser.get_method().decode("ascii"),
            self.url.decode("latin-1"),
            (int(major), int(minor or 0)),
            self.headers,
            self.scheme,
        )
        request.keep_alive = parser.should_keep_alive()
        self.request = request
        self.state = BODY
        self.started = self._now
        length = None
        expect = False
        for key, value in self.headers:
            if key == "CONTENT-LENGTH":
                length = int(value)
            elif key == "EXPECT":
                expect = value.lower() == "100-continue"
        limit = self.limits.max_body
        if limit and length is not None and length > limit:
            raise Refusal(
                413,
                "REQUEST ENTITY TOO LARGE",
                f"Request body of {length} bytes is larger than the limit of {limit} bytes",
                "rest_body",
                request.method,
                request.path,
            )
        if expect:
            # Answered here (or not needed): Gunicorn's WSGI glue must not send it again.
            request.headers = [(key, value) for key, value in self.headers if key != "EXPECT"]
            if request.version >= (1, 1) and length != 0:
                self.send_continue()

    def on_body(self, body: bytes) -> None:
        self.received += len(body)
        limit = self.limits.max_body
        if limit and self.received > limit:
            request = self.request
            assert request is not None
            raise Refusal(
                413,
                "REQUEST ENTITY TOO LARGE",
                f"Request body is larger than the limit of {limit} bytes",
                "rest_body",
                request.method,
                request.path,
            )
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        request = self.request
        assert request is not None
        request.body = io.BytesIO(b"".join(self.chunks))  # one chunk: joined without a copy
        self.ready.append(request)
        if not request.keep_alive:
            self.finished = True
        self.state = IDLE
        self._reset()
