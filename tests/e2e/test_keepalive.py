"""REST connections with one thread per worker: kept open, closed when they should be, shared
fairly between workers (seldon_wrapper/speedups/keepalive.py)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

from tests.conftest import wait_for_loads, worker_pid_env

BODY = json.dumps({"data": {"ndarray": [[1.0, 2.0]]}})
HEADERS = {"Content-Type": "application/json"}


def _connect(server) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    conn.connect()
    return conn


def _post(conn: http.client.HTTPConnection, body: str = BODY, path: str = "/api/v1.0/predictions"):
    conn.request("POST", path, body=body, headers=HEADERS)
    response = conn.getresponse()
    return response, response.read()


def _raw_request(body: bytes, path: str = "/api/v1.0/predictions", version: str = "1.1") -> bytes:
    head = (
        f"POST {path} HTTP/{version}\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _read_responses(sock: socket.socket, count: int, deadline_s: float = 10) -> list[bytes]:
    """Read until `count` complete responses (Content-Length framed) have arrived."""
    data = b""
    responses: list[bytes] = []
    deadline = time.monotonic() + deadline_s
    while len(responses) < count and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:])
            length = int({k.lower(): v for k, v in fields.items()}[b"content-length"])
            if len(rest) < length:
                break
            responses.append(head + b"\r\n\r\n" + rest[:length])
            data = rest[length:]
    return responses


def _closed_by_server(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


@pytest.fixture
def identity(serve_speedups):
    return serve_speedups("IdentityModel")


def test_one_connection_serves_many_requests(identity):
    conn = _connect(identity)
    local = conn.sock.getsockname()
    for i in range(20):
        response, body = _post(conn, json.dumps({"data": {"ndarray": [[i]]}}))
        assert response.status == 200
        assert json.loads(body)["data"]["ndarray"] == [[i]]
        assert (response.getheader("Connection") or "").lower() != "close"
    assert conn.sock is not None and conn.sock.getsockname() == local  # never reconnected
    conn.close()


def test_large_and_small_answers_alternate_on_one_connection(identity):
    # Answers above and below the size at which the worker stops buffering a response.
    conn = _connect(identity)
    for rows in (1, 2000, 3, 700, 1):
        matrix = [[float(r * 10 + c) for c in range(10)] for r in range(rows)]
        response, body = _post(conn, json.dumps({"data": {"ndarray": matrix}}))
        assert response.status == 200
        assert int(response.getheader("Content-Length")) == len(body)
        assert json.loads(body)["data"]["ndarray"] == matrix
    conn.close()


def test_client_errors_keep_the_connection_usable(identity):
    conn = _connect(identity)
    local = conn.sock.getsockname()
    response, body = _post(conn, "{not json")
    assert response.status == 400
    assert json.loads(body)["status"]["status"] == 1  # the v1 error body (FAILURE)
    # A route that never reads the body: the body is skipped, the next request parses.
    response, _ = _post(conn, "x" * 100_000, path="/no/such/route")
    assert response.status == 404
    response, body = _post(conn)
    assert response.status == 200
    assert json.loads(body)["data"]["ndarray"] == [[1.0, 2.0]]
    assert conn.sock.getsockname() == local
    conn.close()


def test_a_malformed_chunked_body_gets_one_400_and_a_closed_connection(identity):
    # The whole request is read before any route runs: a body that turns out malformed is
    # the client's error, answered once, and nothing after it on the connection is read.
    with socket.create_connection(("127.0.0.1", identity.http_port), timeout=10) as sock:
        sock.sendall(
            b"POST /no/such/route HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"ZZ\r\nnot a chunk\r\n"
        )
        data = b""
        sock.settimeout(5)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 400")
    assert data.count(b"HTTP/1.") == 1, data
    assert _post(_connect(identity))[0].status == 200
    assert "Traceback" not in identity.log()


def test_pipelined_requests_are_all_answered_in_order(identity):
    with socket.create_connection(("127.0.0.1", identity.http_port), timeout=10) as sock:
        bodies = [json.dumps({"data": {"ndarray": [[i]]}}).encode() for i in range(5)]
        sock.sendall(b"".join(_raw_request(b) for b in bodies))
        responses = _read_responses(sock, 5)
    assert len(responses) == 5
    for i, response in enumerate(responses):
        assert response.startswith(b"HTTP/1.1 200")
        assert json.loads(response.split(b"\r\n\r\n", 1)[1])["data"]["ndarray"] == [[i]]


def test_http10_and_connection_close_requests_are_closed(identity):
    with socket.create_connection(("127.0.0.1", identity.http_port), timeout=10) as sock:
        sock.sendall(_raw_request(BODY.encode(), version="1.0"))
        assert _read_responses(sock, 1)[0].startswith(b"HTTP/1.0 200")
        assert _closed_by_server(sock, 3)
    conn = _connect(identity)
    conn.request("POST", "/api/v1.0/predictions", body=BODY, headers={**HEADERS, "Connection": "close"})
    response = conn.getresponse()
    assert response.status == 200 and response.read()
    assert response.getheader("Connection").lower() == "close"
    conn.close()


def test_idle_connections_are_closed_after_the_keepalive_setting(serve_speedups):
    server = serve_speedups("IdentityModel", env={"GUNICORN_KEEPALIVE": "1"})
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=10) as sock:
        sock.sendall(_raw_request(BODY.encode()))
        assert _read_responses(sock, 1)[0].startswith(b"HTTP/1.1 200")
        assert not _closed_by_server(sock, 0.5)  # still open right after the answer
        assert _closed_by_server(sock, 4)  # gone after 1 s idle (+ up to 1 s sweep)


def test_keepalive_zero_closes_after_every_response_like_the_sync_worker(serve_speedups):
    server = serve_speedups("IdentityModel", env={"GUNICORN_KEEPALIVE": "0"})
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=10) as sock:
        sock.sendall(_raw_request(BODY.encode()))
        response = _read_responses(sock, 1)[0]
        assert b"connection: close" in response.lower()
        assert _closed_by_server(sock, 3)


def test_a_malformed_request_gets_400_and_the_worker_keeps_serving(identity):
    with socket.create_connection(("127.0.0.1", identity.http_port), timeout=10) as sock:
        sock.sendall(b"NOT A REQUEST LINE\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")
    conn = _connect(identity)
    response, _ = _post(conn)
    assert response.status == 200
    conn.close()
    assert "Traceback" not in identity.log()


def test_a_client_vanishing_mid_request_is_not_an_error(identity):
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", identity.http_port), timeout=10) as sock:
            sock.sendall(_raw_request(b'{"data":{"ndarray":[[1]]}}')[:-5])  # body cut short
    conn = _connect(identity)
    response, _ = _post(conn)
    assert response.status == 200
    conn.close()
    log = identity.log()
    assert "Traceback" not in log and "ERROR" not in log


def _two_workers(serve_speedups, tmp_path):
    server = serve_speedups(
        "WorkerPidModel", "--workers", "2", "--grpc-workers", "0", env=worker_pid_env(tmp_path)
    )
    wait_for_loads(tmp_path / "load", 2)
    time.sleep(0.3)  # load() runs just before the worker's loop starts
    return server


def test_connections_opened_together_are_shared_between_workers(serve_speedups, tmp_path):
    # A client pool opening several connections at once: each worker must get its share,
    # otherwise one worker serves everything on its kept-alive connections and the other idles.
    server = _two_workers(serve_speedups, tmp_path)
    for size in (2, 4, 4, 6):
        conns = [http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10) for _ in range(size)]
        threads = [threading.Thread(target=c.connect) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pids = []
        for conn in conns:
            response, body = _post(conn, json.dumps({"data": {"ndarray": [0]}}))
            assert response.status == 200
            pids.append(json.loads(body)["data"]["ndarray"][0])
        for conn in conns:
            conn.close()
        counts = sorted(pids.count(pid) for pid in set(pids))
        assert counts == [size // 2, size // 2], (size, pids)
        time.sleep(0.2)  # the closed connections leave the workers' counts


def test_two_workers_serve_two_kept_alive_clients_at_once(serve_speedups, tmp_path):
    server = _two_workers(serve_speedups, tmp_path)
    conns = [_connect(server), _connect(server)]
    for conn in conns:  # warm both connections (and both workers)
        assert _post(conn, json.dumps({"data": {"ndarray": [0]}}))[0].status == 200
    results: list[int] = []
    started = time.monotonic()

    def slow(conn):
        response, body = _post(conn, json.dumps({"data": {"ndarray": [1.0]}}))
        results.append(json.loads(body)["data"]["ndarray"][0])

    threads = [threading.Thread(target=slow, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert len(set(results)) == 2
    assert elapsed < 1.8, elapsed  # the two 1-second predictions ran side by side
    for conn in conns:
        conn.close()


def test_sigterm_answers_a_request_in_flight_on_a_kept_alive_connection(serve_speedups, tmp_path):
    server = serve_speedups("WorkerPidModel", env=worker_pid_env(tmp_path))
    conn = _connect(server)
    assert _post(conn, json.dumps({"data": {"ndarray": [0]}}))[0].status == 200
    outcome: dict = {}

    def slow():
        response, body = _post(conn, json.dumps({"data": {"ndarray": [1.0]}}))
        outcome["status"] = response.status
        outcome["close"] = response.getheader("Connection")

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    server.process.terminate()
    thread.join(10)
    assert outcome.get("status") == 200
    assert server.process.wait(10) == 0


def test_a_request_sent_while_the_worker_is_busy_is_answered_not_dropped_as_idle(serve_speedups, tmp_path):
    # Connections the worker accepted before a long prediction have been quiet for longer than
    # the keep-alive setting when it is done; the requests they sent meanwhile must be served.
    server = serve_speedups("WorkerPidModel", "--keepalive", "1", env=worker_pid_env(tmp_path))
    waiting = [_connect(server) for _ in range(3)]
    time.sleep(0.2)  # accepted, and quiet
    long = _connect(server)
    results: dict = {}

    def post(name, conn, seconds):
        response, body = _post(conn, json.dumps({"data": {"ndarray": [seconds]}}))
        results[name] = response.status

    threads = [threading.Thread(target=post, args=("long", long, 2.5))]
    threads += [threading.Thread(target=post, args=(i, conn, 0.0)) for i, conn in enumerate(waiting)]
    threads[0].start()
    time.sleep(0.3)
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert results == {"long": 200, 0: 200, 1: 200, 2: 200}
    for conn in [long, *waiting]:
        conn.close()
