"""A small asyncio HTTP/1.1 client for node calls: kept-alive connections per node, one write per
request, answers read by llhttp (httptools).

Why not urllib3 or http.client: a graph request makes one call per node, and their
general-purpose machinery (URL parsing, header objects, the email parser) cost several times
what the node itself spends on a small message (bench/README.md, "Inference graph"); and they
block a thread per call, where a walk on the event loop waits on its nodes holding none. This
client does only what node calls need: POST or GET with a body, answers framed by
Content-Length, chunks or the connection's end, and a deadline for the whole exchange.

A connection that sat idle in the pool may have been closed by the node (its keep-alive
timeout); a call that finds it closed before any byte of the answer came is sent again once on
a new connection: the node never read it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable

import httptools

#: Idle connections kept per node address (more may open under load; these are reused).
POOL_SIZE = 32
#: A node's address: (host, port), or the path of its Unix socket.
Address = tuple[str, int] | str
TIMED_OUT = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"


class HttpError(Exception):
    """A call that got no answer; the text says why (refused, timed out, reset)."""

    def __init__(self, message: str, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class Answer:
    """A node's answer: status, headers (lower-case names) and the whole body."""

    __slots__ = ("body", "headers", "keep_alive", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, keep_alive: bool) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


class _Stale(Exception):
    """The connection was closed before any byte of the answer: the node never read the call."""


class _Connection(asyncio.Protocol):
    """One kept-alive connection to a node; at most one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Answer] | None = None
        self.open = True
        self._clear()

    def _clear(self) -> None:
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.received = False
        self.headers_done = False
        self.keep_alive = True

    def send(self, data: bytes, waiter: asyncio.Future[Answer]) -> None:
        self._clear()
        self.waiter = waiter
        assert self.transport is not None
        self.transport.write(data)

    # asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"malformed HTTP response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if self.waiter is None or self.waiter.done():
            return
        if not self.received:
            self._fail(_Stale())
        elif (
            self.headers_done
            and "content-length" not in self.headers
            and "transfer-encoding" not in self.headers
        ):
            self.keep_alive = False  # the body ran to the connection's end
            self._finish()
        else:
            self._fail(HttpError("unexpected EOF: the node closed the connection mid-answer"))

    # httptools
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self._finish()

    def _finish(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            answer = Answer(
                self.parser.get_status_code(), self.headers, b"".join(self.chunks), self.keep_alive
            )
            waiter.set_result(answer)

    def _fail(self, error: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        self.open = False
        if self.transport is not None:
            self.transport.close()
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()


class NodeHttp:
    """Keep-alive connections to every node, shared by every request of one event loop."""

    def __init__(self, timeout_s: float | None = None, pool_size: int = POOL_SIZE) -> None:
        self.timeout_s = timeout_s
        self.pool_size = pool_size
        self._idle: dict[Address, list[_Connection]] = {}

    async def request(
        self,
        method: str,
        host: str,
        port: int,
        path: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None = None,
        unix: str | None = None,
    ) -> Answer:
        """One exchange; HttpError when no answer came (the message names the cause). ``unix``:
        the node's Unix socket, used instead of ``host:port`` (which still names it in ``Host``)."""
        head = [f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"]
        head.extend(f"{name}: {value}\r\n" for name, value in headers)
        if body is not None:
            head.append(f"Content-Length: {len(body)}\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1") + (body or b"")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s if self.timeout_s else None
        address: Address = unix or (host, port)
        connection, reused = self._take(address)
        if connection is None:
            connection = await self._connect(address, deadline)
        try:
            answer = await self._exchange(connection, data, deadline)
        except _Stale:
            if not reused:
                raise HttpError("connection closed by the node before it answered") from None
            connection = await self._connect(address, deadline)
            try:
                answer = await self._exchange(connection, data, deadline)
            except _Stale:
                raise HttpError("connection closed by the node before it answered") from None
        if answer.keep_alive and connection.open:
            self._give(address, connection)
        else:
            connection.close()
        return answer

    def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    # -- connections ------------------------------------------------------------------------

    def _take(self, address: Address) -> tuple[_Connection | None, bool]:
        idle = self._idle.get(address)
        while idle:
            connection = idle.pop()
            if connection.open:
                return connection, True
        return None, False

    def _give(self, address: Address, connection: _Connection) -> None:
        idle = self._idle.setdefault(address, [])
        if len(idle) < self.pool_size:
            idle.append(connection)
        else:
            connection.close()

    async def _connect(self, address: Address, deadline: float | None) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            if isinstance(address, str):
                connecting = loop.create_unix_connection(_Connection, address)
            else:
                connecting = loop.create_connection(_Connection, *address)
            if deadline is None:
                _, connection = await connecting
            else:
                _, connection = await asyncio.wait_for(connecting, max(0.0, deadline - loop.time()))
        except TimeoutError:
            raise HttpError(
                "dial: i/o timeout (Client.Timeout exceeded while awaiting headers)", True
            ) from None
        except (ConnectionRefusedError, FileNotFoundError):  # a socket file gone: its server too
            raise HttpError("connect: connection refused") from None
        except OSError as exc:
            raise HttpError(f"dial: {exc.strerror or exc}") from None
        sock = connection.transport.get_extra_info("socket") if connection.transport else None
        if sock is not None and sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    # -- one exchange ----------------------------------------------------------------------

    async def _exchange(self, connection: _Connection, data: bytes, deadline: float | None) -> Answer:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Answer] = loop.create_future()
        timer = None
        if deadline is not None:
            left = deadline - loop.time()
            if left <= 0:
                connection.close()
                raise HttpError(TIMED_OUT, True)
            timer = loop.call_at(deadline, connection._fail, HttpError(TIMED_OUT, True))
        try:
            connection.send(data, waiter)
            return await waiter
        except asyncio.CancelledError:
            connection.close()  # an answer may still come: this connection is not reusable
            raise
        finally:
            if timer is not None:
                timer.cancel()
