"""Slow, stalled and greedy clients against one REST worker: they hold a connection slot, never
the worker (speedups/keepalive.py, speedups/http_reader.py; issue 13, point 1)."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time

import pytest
import requests

from tests.conftest import WITH_SPEEDUPS, module_server

DEADLINE = 2.0
# Deadlines are checked once a second: a stalled request ends between its deadline and 1 s later.
SWEEP = 1.0
GOOD = json.dumps({"data": {"ndarray": [[1.0, 2.0]]}}).encode()

short = module_server(
    "IdentityModel",
    "--request-header-timeout",
    str(DEADLINE),
    "--request-body-timeout",
    str(DEADLINE),
    "--keepalive",
    "30",
    env=WITH_SPEEDUPS,
)
few = module_server("IdentityModel", "--worker-connections", "3", "--keepalive", "30", env=WITH_SPEEDUPS)


def predict(port: int) -> float:
    """One ordinary request on a new connection; its latency in seconds."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("POST", "/api/v1.0/predictions", body=GOOD, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["data"]["ndarray"] == [[1.0, 2.0]]
    finally:
        conn.close()
    return time.perf_counter() - started


class Trickler:
    """A client sending `data` a few bytes at a time; records when and what the server answers."""

    def __init__(self, port: int, data: bytes, step: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.data = data
        self.step = step
        self.sent = 0
        self.began = time.monotonic()
        self.answer = b""
        self.closed_after: float | None = None

    def tick(self) -> None:
        if self.closed_after is not None:
            return
        try:
            while chunk := self.sock.recv(65536):
                self.answer += chunk
            self.closed_after = time.monotonic() - self.began  # EOF: the server closed
        except BlockingIOError:
            pass
        except ConnectionResetError:
            self.closed_after = time.monotonic() - self.began
        if self.closed_after is None and self.sent < len(self.data):
            try:
                self.sent += self.sock.send(self.data[self.sent : self.sent + self.step])
            except OSError:
                pass


def trickle(tricklers: list[Trickler], stop: threading.Event) -> None:
    while not stop.is_set():
        for one in tricklers:
            one.tick()
        time.sleep(0.25)


def refused(server, limit: str) -> float:
    text = requests.get(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10).text
    pattern = r"^seldon_api_refused_requests_total\{[^}]*limit=\"" + limit + r"\"[^}]*\} (\S+)$"
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else 0.0


def test_tricklers_get_408_at_their_deadline_while_everyone_else_is_served(short):
    before = refused(short, "rest_timeout")
    head = b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n"
    headers = [Trickler(short.http_port, head, 1) for _ in range(50)]
    v1_body = (
        b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b" " * 100000
    )
    v2_body = b"POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
    v2_body += b" " * 100000
    bodies = [Trickler(short.http_port, v1_body if i % 2 else v2_body, 10 if i else 200) for i in range(10)]
    for one in bodies:  # the header block at once, then the body 10 bytes at a time
        one.sent = one.sock.send(one.data[: one.data.index(b"\r\n\r\n") + 4])
    stop = threading.Event()
    driver = threading.Thread(target=trickle, args=(headers + bodies, stop))
    driver.start()
    latencies: list[float] = []
    failures = 0
    try:
        started = time.monotonic()
        for n in range(80):  # 20 a second for 4 s
            time.sleep(max(0.0, started + n / 20 - time.monotonic()))
            try:
                latencies.append(predict(short.http_port))
            except (OSError, AssertionError):
                failures += 1
        time.sleep(max(0.0, started + DEADLINE + SWEEP + 0.8 - time.monotonic()))
    finally:
        stop.set()
        driver.join()
    for one in headers + bodies:
        one.tick()
        one.sock.close()
    assert failures <= 0.01 * 80
    latencies.sort()
    assert latencies[int(0.99 * len(latencies)) - 1] < 0.05, latencies[-5:]
    for one in headers + bodies:
        assert one.answer.startswith(b"HTTP/1.1 408"), one.answer[:100]
        assert one.closed_after is not None and DEADLINE - 0.1 <= one.closed_after <= DEADLINE + SWEEP + 0.6
    v1_answer = json.loads(bodies[1].answer.split(b"\r\n\r\n", 1)[1])
    assert v1_answer["status"]["code"] == -1 and "not received in time" in v1_answer["status"]["info"]
    v2_answer = json.loads(bodies[0].answer.split(b"\r\n\r\n", 1)[1])
    assert "not received in time" in v2_answer["error"]
    assert refused(short, "rest_timeout") - before == 60
    assert "Traceback" not in short.log()


def test_a_client_that_stops_reading_its_answer_holds_only_its_connection(short):
    big = json.dumps({"data": {"ndarray": [[0.5] * 400_000]}}).encode()
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", short.http_port))
    stalled.sendall(
        b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(big)
        + big
    )
    time.sleep(0.5)  # the answer is computed; most of it cannot be sent
    assert max(predict(short.http_port) for _ in range(20)) < 0.5
    # No progress for the body deadline: the server gives up on that connection.
    time.sleep(DEADLINE + SWEEP + 0.5)
    stalled.settimeout(5)
    received = b""
    try:
        while chunk := stalled.recv(1 << 20):
            received += chunk
    except ConnectionResetError:
        pass
    stalled.close()
    assert received.startswith(b"HTTP/1.1 200")
    head, body = received.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert len(body) < length  # cut short: the server stopped waiting


def test_beyond_worker_connections_new_connections_wait_their_turn(few):
    held = [http.client.HTTPConnection("127.0.0.1", few.http_port, timeout=5) for _ in range(3)]
    for conn in held:
        conn.request("POST", "/api/v1.0/predictions", body=GOOD, headers={"Content-Type": "application/json"})
        assert conn.getresponse().read()
    waiting = socket.create_connection(("127.0.0.1", few.http_port), timeout=5)  # in the backlog
    waiting.sendall(b"GET /health/ping HTTP/1.1\r\nHost: x\r\n\r\n")
    waiting.settimeout(1.0)
    with pytest.raises(TimeoutError):
        waiting.recv(100)
    held[0].close()  # a slot frees: the waiting connection is taken and answered
    waiting.settimeout(5)
    assert waiting.recv(100).startswith(b"HTTP/1.1 200")
    waiting.close()
    for conn in held[1:]:
        conn.close()


def test_a_client_expecting_100_continue_is_asked_for_its_body(short):
    with socket.create_connection(("127.0.0.1", short.http_port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(GOOD)
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(GOOD)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200") and b'"ndarray":[[1.0,2.0]]' in answer


def test_a_body_over_the_limit_is_refused_instead_of_continued(short):
    with socket.create_connection(("127.0.0.1", short.http_port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: 999999999999\r\n\r\n"
        )
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")
    assert predict(short.http_port) < 1
