"""executor/http_server.py on a real socket, with an echo handler: framing, keep-alive and
pipelining, and every limit (body 413, headers 431, read deadline 408, idle close, bad bytes
400), each leaving the server serving."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_wrapper.executor.http_server import HttpRequest, HttpResponse, HttpServer, Limits


async def echo(request: HttpRequest) -> HttpResponse:
    if request.path == "/slow":
        await asyncio.sleep(0.3)
    head = json.dumps(
        {"method": request.method, "path": request.path, "puid": request.headers.get("Seldon-Puid")}
    )
    return HttpResponse(200, [("X-Echo", head)], request.body)


def refuse(status: int, message: str, request: HttpRequest | None) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "application/json")], json.dumps({"error": message}).encode()
    )


class Running:
    """The server on 127.0.0.1 in a thread of its own, stopped (drained) by ``close``."""

    def __init__(self, limits: Limits) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = HttpServer(echo, refuse, limits)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.listen(self.listener), self.loop).result(5)

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return sock

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(2), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


LIMITS = Limits(max_body=1000, read_timeout_s=0.5, idle_timeout_s=1.0, max_header_bytes=2000)


@pytest.fixture
def running():
    server = Running(LIMITS)
    yield server
    server.close()


_LEFT: dict[int, bytes] = {}  # bytes read past an answer, by socket (pipelined answers)


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = _LEFT.pop(sock.fileno(), b"")
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    length = int(headers.get("Content-Length", 0))
    while len(rest) < length:
        rest += sock.recv(65536)
    if rest[length:]:
        _LEFT[sock.fileno()] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def ask(running: Running, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with running.connect() as sock:
        sock.sendall(raw)
        return read_answer(sock)


def post(path: str, body: bytes, extra: str = "") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body


def test_kept_alive_and_pipelined_requests_are_answered_in_order(running):
    with running.connect() as sock:
        sock.sendall(post("/slow", b"one") + post("/a", b"two", "seldon-puid: p\r\n") + post("/b", b""))
        answers = [read_answer(sock) for _ in range(3)]
    assert [body for _, _, body in answers] == [b"one", b"two", b""]
    assert json.loads(answers[1][1]["X-Echo"]) == {"method": "POST", "path": "/a", "puid": "p"}


@settings(max_examples=40, deadline=None)
@given(
    body=st.binary(max_size=1000),
    piece=st.integers(1, 300),
    chunked=st.booleans(),
)
def test_a_body_sent_in_any_pieces_and_framing_arrives_byte_for_byte(body, piece, chunked):
    server = Running(LIMITS)
    try:
        if chunked:
            chunks = b"".join(
                b"%x\r\n%s\r\n" % (len(body[i : i + 97]), body[i : i + 97]) for i in range(0, len(body), 97)
            )
            raw = (
                b"POST /c?x=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + chunks
                + b"0\r\n\r\n"
            )
        else:
            raw = post("/c?x=1", body)
        with server.connect() as sock:
            for start in range(0, len(raw), piece):
                sock.sendall(raw[start : start + piece])
            status, headers, answer = read_answer(sock)
        assert (status, answer) == (200, body)
        assert json.loads(headers["X-Echo"])["path"] == "/c"
    finally:
        server.close()


def test_a_body_over_the_limit_is_413_before_it_is_read_or_as_soon_as_chunks_pass_it(running):
    status, _, body = ask(running, b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
    assert status == 413 and "over the limit of 1000 bytes" in json.loads(body)["error"]
    big = b"%x\r\n%s\r\n" % (1500, b"a" * 1500)
    status, headers, _ = ask(
        running, b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + big
    )
    assert status == 413 and headers["Connection"] == "close"
    assert ask(running, post("/a", b"ok"))[2] == b"ok"


def test_headers_over_the_limit_are_431(running):
    status, _, body = ask(running, b"GET /a HTTP/1.1\r\nX-Big: " + b"b" * 3000 + b"\r\n\r\n")
    assert status == 431 and "2000 bytes" in json.loads(body)["error"]


def test_bytes_that_are_not_http_are_400_and_the_server_keeps_serving(running):
    status, _, body = ask(running, b"\x00\xff NOT HTTP\r\n\r\n")
    assert status == 400 and json.loads(body)["error"] == "malformed HTTP request"
    assert ask(running, post("/a", b"still"))[2] == b"still"


def test_a_stalled_request_is_408_at_the_read_deadline_and_holds_up_no_one(running):
    stalled = [running.connect() for _ in range(50)]
    try:
        for sock in stalled:
            sock.sendall(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")  # 7 bytes short
        started = time.monotonic()
        assert ask(running, post("/a", b"quick"))[2] == b"quick"
        assert time.monotonic() - started < 0.3  # not queued behind the stalled ones
        status, _, body = read_answer(stalled[0])
        assert status == 408 and "0.5 s" in json.loads(body)["error"]
        assert time.monotonic() - started < 2
    finally:
        for sock in stalled:
            sock.close()


def test_a_request_trickled_byte_by_byte_still_meets_one_deadline(running):
    with running.connect() as sock:
        started = time.monotonic()
        raw = b"GET /a HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100
        try:
            for byte in raw:
                sock.sendall(bytes([byte]))
                time.sleep(0.02)  # 2 s in all: each byte is in time, the request is not
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _, _ = read_answer(sock)
    assert status == 408 and time.monotonic() - started < 1.5


def test_an_idle_kept_alive_connection_is_closed_quietly(running):
    with running.connect() as sock:
        sock.sendall(post("/a", b"x"))
        read_answer(sock)
        time.sleep(1.6)  # the idle limit (1 s) and one sweep (0.25 s)
        assert sock.recv(100) == b""  # closed, no answer


def test_expect_100_continue_head_and_http_1_0(running):
    with running.connect() as sock:
        sock.sendall(b"POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hi")
        assert read_answer(sock)[2] == b"hi"
    with running.connect() as sock:
        sock.sendall(b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n" + post("/b", b"after"))
        status, headers, _ = read_answer(sock)  # Content-Length 0: the echo of no body
        assert status == 200 and read_answer(sock)[2] == b"after"
        _LEFT.clear()
    with running.connect() as sock:
        sock.sendall(b"POST /a HTTP/1.0\r\nContent-Length: 3\r\n\r\nold")
        status, headers, body = read_answer(sock)
        assert (status, body, headers["Connection"]) == (200, b"old", "close")
        assert sock.recv(100) == b""


def test_stop_lets_a_request_in_flight_finish():
    server = Running(LIMITS)
    sock = server.connect()
    sock.sendall(post("/slow", b"last"))
    time.sleep(0.1)
    closing = threading.Thread(target=server.close)
    closing.start()
    status, headers, body = read_answer(sock)
    closing.join(10)
    sock.close()
    assert (status, body, headers["Connection"]) == (200, b"last", "close")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
