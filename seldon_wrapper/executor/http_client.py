"""A small HTTP/1.1 client for node calls: kept-alive sockets per node, one ``sendall`` per
request, answers read by llhttp (httptools).

Why not urllib3 or http.client: a graph request makes one call per node, and their
general-purpose machinery (URL parsing, header objects, the email parser) cost several times
what the node itself spends on a small message (bench/README.md, "Inference graph"). This client
does only what node calls need: POST or GET with a body, answers framed by Content-Length,
chunks or the connection's end, and a deadline for the whole exchange.

A socket that sat idle in the pool may have been closed by the node (its keep-alive timeout); a
call that finds it closed before any byte of the answer came is sent again once on a new
connection: the node never read it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable

import httptools

#: Idle connections kept per node address (more may open under load; these are reused).
POOL_SIZE = 32
_RECV = 256 * 1024


class HttpError(Exception):
    """A call that got no answer; the text says why (refused, timed out, reset)."""

    def __init__(self, message: str, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class Answer:
    """A node's answer: status, headers (lower-case names) and the whole body."""

    __slots__ = ("body", "headers", "keep_alive", "parser", "status", "_chunks", "_done", "_headers_done")

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.keep_alive = True
        self._chunks: list[bytes] = []
        self._done = False
        self._headers_done = False
        self.parser = httptools.HttpResponseParser(self)

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()  # only known while the parser is here

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        self._done = True


class NodeHttp:
    """Keep-alive connections to every node, shared by the threads of one process."""

    def __init__(self, timeout_s: float | None = None, pool_size: int = POOL_SIZE) -> None:
        self.timeout_s = timeout_s
        self.pool_size = pool_size
        self._idle: dict[tuple[str, int], list[socket.socket]] = {}
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        host: str,
        port: int,
        path: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None = None,
    ) -> Answer:
        """One exchange; HttpError when no answer came (the message names the cause)."""
        deadline = time.monotonic() + self.timeout_s if self.timeout_s else None
        head = [f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"]
        head.extend(f"{name}: {value}\r\n" for name, value in headers)
        if body is not None:
            head.append(f"Content-Length: {len(body)}\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1") + (body or b"")
        address = (host, port)
        sock, reused = self._take(address, deadline)
        try:
            answer = self._exchange(sock, data, deadline, method)
        except _Stale:
            sock.close()
            if not reused:
                raise HttpError("connection closed by the node before it answered") from None
            sock, _ = self._connect(address, deadline), False
            try:
                answer = self._exchange(sock, data, deadline, method)
            except _Stale:
                sock.close()
                raise HttpError("connection closed by the node before it answered") from None
            except BaseException:
                sock.close()
                raise
        except BaseException:
            sock.close()
            raise
        if answer.keep_alive:
            self._give(address, sock)
        else:
            sock.close()
        return answer

    def close(self) -> None:
        with self._lock:
            for sockets in self._idle.values():
                for sock in sockets:
                    sock.close()
            self._idle.clear()

    # -- connections ------------------------------------------------------------------------

    def _take(self, address: tuple[str, int], deadline: float | None) -> tuple[socket.socket, bool]:
        with self._lock:
            idle = self._idle.get(address)
            if idle:
                return idle.pop(), True
        return self._connect(address, deadline), False

    def _give(self, address: tuple[str, int], sock: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(address, [])
            if len(idle) < self.pool_size:
                idle.append(sock)
                return
        sock.close()

    def _connect(self, address: tuple[str, int], deadline: float | None) -> socket.socket:
        try:
            sock = socket.create_connection(address, timeout=_remaining(deadline))
        except TimeoutError:
            raise HttpError(
                "dial: i/o timeout (Client.Timeout exceeded while awaiting headers)", True
            ) from None
        except ConnectionRefusedError:
            raise HttpError("connect: connection refused") from None
        except OSError as exc:
            raise HttpError(f"dial: {exc.strerror or exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    # -- one exchange ----------------------------------------------------------------------

    def _exchange(self, sock: socket.socket, data: bytes, deadline: float | None, method: str) -> Answer:
        answer = Answer()
        parser = answer.parser
        received = False
        try:
            sock.settimeout(_remaining(deadline))
            sock.sendall(data)
            while not answer._done:
                if deadline is not None:
                    sock.settimeout(_remaining(deadline))
                chunk = sock.recv(_RECV)
                if not chunk:
                    if not received:
                        raise _Stale
                    if answer._headers_done and "content-length" not in answer.headers:
                        answer.keep_alive = False  # the body ran to the connection's end
                        break
                    raise HttpError("unexpected EOF: the node closed the connection mid-answer")
                received = True
                parser.feed_data(chunk)
        except TimeoutError:
            raise HttpError(
                "context deadline exceeded (Client.Timeout exceeded while awaiting headers)", True
            ) from None
        except (BrokenPipeError, ConnectionResetError) as exc:
            if not received:
                raise _Stale from None
            raise HttpError(f"read: {exc.strerror or exc}") from None
        except httptools.HttpParserError as exc:
            raise HttpError(f"malformed HTTP response: {exc}") from None
        answer.body = b"".join(answer._chunks)
        answer.parser = None  # no cycle left behind
        return answer


class _Stale(Exception):
    """The connection was closed before any byte of the answer: the node never read the call."""


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise HttpError("context deadline exceeded (Client.Timeout exceeded while awaiting headers)", True)
    return left
