"""The executor's HTTP/1.1 server: one asyncio event loop per REST worker process.

Why not a thread per request (Gunicorn's gthread worker, which served the executor before): a
graph request spends most of its life waiting on nodes. On an event loop a waiting request holds
no thread, so every request a client sends is in flight at once, and a client that sends half a
request and stalls holds only its socket until ``read_timeout_s`` (408) instead of a thread.
Requests are parsed by llhttp (httptools); bodies are kept whole, as the walk passes them on.

Limits (each a flag and env of ``seldon-core-executor``): the header block (``MAX_HEADER_BYTES``,
431), the body (``max_body``, 413 before the body is read when ``Content-Length`` says so),
the time to receive a whole request once its first byte came (``read_timeout_s``, 408), and the
idle time of a kept-alive connection (``idle_timeout_s``; closed without a word, as Go does).
A request that is not HTTP is answered 400 and its connection closed. Pipelined requests are
answered in order, one at a time per connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httptools

logger = logging.getLogger(__name__)

#: Largest request line plus headers; more is a 431.
MAX_HEADER_BYTES = 64 * 1024
#: How often connections' deadlines are checked (seconds): one sweep instead of a timer per
#: request, so a deadline may pass by up to this much before it is acted on.
SWEEP_S = 0.25

REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class HttpRequest:
    method: str
    path: str
    #: Header names as Go's server keys them (``Seldon-Puid``); repeated headers joined by ", ".
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


#: ``handler(request) -> response``; ``refuse(status, message, request)`` is the answer to a
#: request refused by a limit (the handler's protocol decides the error body).
Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]
Refuse = Callable[[int, str, HttpRequest | None], HttpResponse]


@dataclass(frozen=True)
class Limits:
    max_body: int
    read_timeout_s: float
    idle_timeout_s: float
    max_header_bytes: int = MAX_HEADER_BYTES


def canonical(name: str) -> str:
    """``seldon-puid`` -> ``Seldon-Puid``, the key Go's ``http.Header`` gives it."""
    return "-".join(part.capitalize() for part in name.split("-"))


def encode(response: HttpResponse, keep_alive: bool) -> bytes:
    status = response.status
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in response.headers)
    lines.append(f"Content-Length: {len(response.body)}\r\n")
    if not keep_alive:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1") + response.body


class Connection(asyncio.Protocol):
    """One client connection: parses requests, runs the handler on each in turn."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.limits = server.limits
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.pending: deque[tuple[HttpRequest, bool]] = deque()
        self.busy = False
        self.paused = False
        self.closing = False
        self.deadline: float | None = None  # monotonic seconds; checked by the server's sweep
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.header_names: list[str] = []
        self.header_pairs: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        self.headers_done = False
        self.chunks: list[bytes] = []
        self.body_size = 0
        self.started = False  # a first byte of the next request came

    # -- asyncio ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.connections.add(self)
        self._wait(self.limits.idle_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.connections.discard(self)
        self.deadline = None

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        if not self.started:
            self.started = True
            self._wait(self.limits.read_timeout_s)
        if not self.headers_done:
            self.header_bytes += len(data)
            if self.header_bytes > self.limits.max_header_bytes and not self._headers_end_in(data):
                self._refuse(431, f"request headers are over {self.limits.max_header_bytes} bytes")
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "protocol upgrades are not served")
        except httptools.HttpParserError as exc:
            if not self.closing:
                logger.debug("Malformed request from %s: %s", self._peer(), exc)
                self._refuse(400, "malformed HTTP request")

    def _headers_end_in(self, data: bytes) -> bool:
        return b"\r\n\r\n" in data and self.header_bytes - len(data) + data.index(b"\r\n\r\n") <= (
            self.limits.max_header_bytes
        )

    # -- httptools callbacks --------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.started = True

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_pairs.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        headers: dict[str, str] = {}
        for raw_name, raw_value in self.header_pairs:
            name = canonical(raw_name.decode("latin-1"))
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.headers = headers
        length = headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.limits.max_body:
            request = self._request(b"")
            self._refuse(
                413,
                f"request body of {length} bytes is over the limit of {self.limits.max_body} bytes",
                request,
            )
            raise httptools.HttpParserCallbackError("refused")  # stop parsing this connection
        if headers.get("Expect", "").lower() == "100-continue" and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size > self.limits.max_body:
            self._refuse(
                413, f"request body is over the limit of {self.limits.max_body} bytes", self._request(b"")
            )
            raise httptools.HttpParserCallbackError("refused")
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        request = self._request(b"".join(self.chunks))
        keep_alive = self.parser.should_keep_alive()
        self._reset()
        self.pending.append((request, keep_alive))
        if not self.busy:
            self._next()
        elif not self.paused and self.transport is not None:
            self.paused = True  # pipelined: the rest wait in the socket until these are answered
            self.transport.pause_reading()

    def _request(self, body: bytes) -> HttpRequest:
        url = self.url.decode("latin-1")
        path = url.split("?", 1)[0] or "/"
        if path.startswith(("http://", "https://")):  # absolute form: the path part
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        return HttpRequest(self.parser.get_method().decode("latin-1"), path, self.headers, body)

    # -- answering ------------------------------------------------------------------------------

    def _next(self) -> None:
        if self.closing:
            return
        if not self.pending:
            self.busy = False
            if self.paused and self.transport is not None:
                self.paused = False
                self.transport.resume_reading()
            # a pipelined request begun meanwhile has the rest of a request's time; else idle
            self._wait(self.limits.read_timeout_s if self.started else self.limits.idle_timeout_s)
            return
        self.busy = True
        self.deadline = None  # the walk has its own deadlines
        request, keep_alive = self.pending.popleft()
        task = asyncio.get_running_loop().create_task(self._answer(request, keep_alive))
        self.server.tasks.add(task)
        task.add_done_callback(self.server.tasks.discard)

    async def _answer(self, request: HttpRequest, keep_alive: bool) -> None:
        try:
            response = await self.server.handler(request)
        except Exception as exc:  # the handler's own bug: one line, the client gets a 500
            logger.error(
                "Executor failure on %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc
            )
            logger.debug("Traceback", exc_info=exc)
            response = self.server.refuse(500, f"{type(exc).__name__}: {exc}", request)
        if self.closing or self.transport is None:
            return
        keep_alive = keep_alive and not self.server.stopping
        data = encode(response, keep_alive)
        if request.method == "HEAD":
            data = data[: len(data) - len(response.body)]
        self.transport.write(data)
        if not keep_alive:
            self.closing = True
            self.transport.close()
            return
        self._next()

    def _refuse(self, status: int, message: str, request: HttpRequest | None = None) -> None:
        """A limit's answer, then the connection closes (the rest of its bytes are not read)."""
        if self.closing or self.transport is None:
            return
        self.closing = True
        self.pending.clear()
        if not self.busy:
            self.transport.write(encode(self.server.refuse(status, message, request), False))
        self.transport.close()

    def _wait(self, seconds: float) -> None:
        """Set the connection's one deadline: a request to finish, or an idle keep-alive."""
        self.deadline = time.monotonic() + seconds if seconds > 0 else None

    def expired(self) -> None:
        self.deadline = None
        if self.closing or self.transport is None:
            return
        if self.started and not self.busy:
            logger.info(
                "Request from %s not received within %ss: 408", self._peer(), self.limits.read_timeout_s
            )
            self._refuse(408, f"request not received within {self.limits.read_timeout_s:g} s")
        elif not self.busy:
            self.closing = True
            if self.transport.get_write_buffer_size():
                self.transport.abort()  # its last answer was never read: drop it
            else:
                self.transport.close()  # an idle keep-alive connection

    def close_if_idle(self) -> None:
        if not self.busy and not self.started and self.transport is not None:
            self.closing = True
            self.transport.close()

    def _peer(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "a client"


class HttpServer:
    """Serves ``handler`` on listening sockets; ``stop`` drains requests in flight."""

    def __init__(self, handler: Handler, refuse: Refuse, limits: Limits) -> None:
        self.handler = handler
        self.refuse = refuse
        self.limits = limits
        self.connections: set[Connection] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.servers: list[asyncio.base_events.Server] = []
        self.stopping = False
        self._sweeper: asyncio.TimerHandle | None = None

    async def listen(self, sock: object) -> None:
        loop = asyncio.get_running_loop()
        self.servers.append(await loop.create_server(lambda: Connection(self), sock=sock))  # type: ignore[arg-type]
        if self._sweeper is None:
            self._sweeper = loop.call_later(SWEEP_S, self._sweep)

    def _sweep(self) -> None:
        now = time.monotonic()
        for connection in [c for c in self.connections if c.deadline is not None and c.deadline <= now]:
            connection.expired()
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)

    async def stop(self, grace_s: float) -> None:
        """Stop accepting, close idle connections, let requests in flight finish within
        ``grace_s``, then close every connection."""
        self.stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for server in self.servers:
            server.close()
        for connection in list(self.connections):
            connection.close_if_idle()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=grace_s)
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
