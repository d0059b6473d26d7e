"""The keep-alive REST worker, run in this process on a bare WSGI app (speedups/keepalive.py)."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from seldon_wrapper.speedups import keepalive
from seldon_wrapper.speedups.keepalive import KeepAliveWorker, _Outbox


def hello(environ, start_response):
    body = environ["wsgi.input"].read() or b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class Running:
    """A KeepAliveWorker serving ``hello`` on a thread, as Gunicorn would run it in a worker."""

    def __init__(self, **settings) -> None:
        cfg = Config()
        for key, value in {"keepalive": 2, **settings}.items():
            cfg.set(key, value)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.worker = KeepAliveWorker(0, os.getppid(), [self.listener], None, 30, cfg, Logger(cfg))
        self.worker.wsgi = hello
        self.worker.wakeup = os.pipe()  # init_signals makes it in a real worker (main thread only)
        self.thread = threading.Thread(target=self.worker.run, daemon=True)
        self.thread.start()

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def stop(self) -> None:
        self.worker.alive = False
        os.write(self.worker.wakeup[1], b"x")
        self.thread.join(5)
        self.listener.close()
        self.worker.tmp.close()
        for fd in self.worker.wakeup:
            os.close(fd)


@pytest.fixture
def running():
    started: list[Running] = []

    def start(**settings) -> Running:
        started.append(Running(**settings))
        return started[-1]

    yield start
    for run in started:
        run.stop()


def request(body: bytes = b"", close: bool = False) -> bytes:
    head = f"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n"
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + body


def read_answers(sock: socket.socket, count: int) -> list[bytes]:
    """`count` whole answers (Content-Length framed), or fewer if the worker closes first."""
    data, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            if len(rest) < length:
                break
            answers.append(head + b"\r\n\r\n" + rest[:length])
            data = rest[length:]
            if len(answers) == count:
                return answers
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return answers


def test_one_connection_carries_many_requests(running):
    server = running()
    with server.connect() as sock:
        for i in range(5):
            sock.sendall(request(b"n%d" % i))
            (answer,) = read_answers(sock, 1)
            assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"n%d" % i)
            assert b"connection: keep-alive" in answer.lower()


def test_pipelined_requests_buffered_by_the_parser_are_all_answered_in_order(running):
    server = running()
    with server.connect() as sock:
        sock.sendall(b"".join(request(b"p%d" % i) for i in range(4)))  # one segment, four requests
        answers = read_answers(sock, 4)
    assert [answer.rsplit(b"\r\n", 1)[1] for answer in answers] == [b"p0", b"p1", b"p2", b"p3"]


def test_connection_close_is_answered_then_closed(running):
    server = running()
    with server.connect() as sock:
        sock.sendall(request(b"bye", close=True))
        (answer,) = read_answers(sock, 1)
        assert b"connection: close" in answer.lower()
        assert sock.recv(10) == b""


def test_max_requests_ends_the_worker_after_answering_with_connection_close(running):
    server = running(max_requests=2)
    with server.connect() as sock:
        sock.sendall(request())
        assert b"keep-alive" in read_answers(sock, 1)[0].lower()
        sock.sendall(request())
        assert b"connection: close" in read_answers(sock, 1)[0].lower()
    server.thread.join(5)
    assert not server.thread.is_alive() and not server.worker.alive


def test_a_signal_wakes_the_idle_loop_at_once(running):
    server = running()
    with server.connect() as sock:
        sock.sendall(request())
        read_answers(sock, 1)
        time.sleep(0.1)  # now idle in epoll, which waits up to a second (TICK_S)
        started = time.monotonic()
        server.worker.alive = False  # what Gunicorn's SIGTERM handler does ...
        os.write(server.worker.wakeup[1], b"\x0f")  # ... and the signal's byte on the wake-up fd
        server.thread.join(5)
        assert not server.thread.is_alive()
        assert time.monotonic() - started < keepalive.TICK_S / 2


def test_idle_connections_are_closed_after_keepalive_seconds(running):
    server = running(keepalive=1)
    with server.connect() as sock:
        sock.sendall(request())
        read_answers(sock, 1)
        started = time.monotonic()
        assert sock.recv(10) == b""  # the worker closed it
        assert 0.5 < time.monotonic() - started < 4


class _Sock:
    """Records what a response sends; sendmsg may take only part of it, as a real one can."""

    def __init__(self, takes: list[int | None] | None = None) -> None:
        self.sent: list[bytes] = []
        self.takes = list(takes or [])

    def sendmsg(self, parts) -> int:
        data = b"".join(bytes(part) for part in parts)
        take = self.takes.pop(0) if self.takes else None
        if take == 0:
            raise BlockingIOError
        taken = data if take is None else data[:take]
        self.sent.append(taken)
        return len(taken)


def test_headers_and_body_leave_in_one_sendmsg():
    sock = _Sock()
    out = _Outbox(sock)
    out.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    out.sendall(b"body")
    assert sock.sent == []  # held until the answer is complete
    assert out.flush()
    assert sock.sent == [b"HTTP/1.1 200 OK\r\n\r\nbody"]


def test_what_the_socket_does_not_take_waits_in_order_without_blocking():
    sock = _Sock(takes=[5, 0, 1])
    out = _Outbox(sock)
    for part in (b"abc", b"defg", b"hij"):
        out.sendall(part)
    assert not out.flush()  # 5 bytes went, then the socket was full
    assert out.size == 5
    assert out.flush()  # 1 byte, then the rest
    assert b"".join(sock.sent) == b"abcdefghij"
    assert out.size == 0 and out.parts == []


def test_a_file_answer_goes_through_the_outbox(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    out = _Outbox(_Sock())
    with open(path, "rb") as f:
        assert out.sendfile(f, 2, 5) == 5
    assert out.flush() and out.sock.sent == [b"23456"]
