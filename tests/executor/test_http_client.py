"""executor/http_client.py against a raw socket server that answers exactly the bytes a test
scripts: framing (Content-Length, chunks, the connection's end), keep-alive reuse, a kept
connection the node closed, refusals and deadlines."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_wrapper.executor.http_client import HttpError, NodeHttp
from tests.conftest import free_port
from tests.executor.harness import OnLoop


class ScriptedNode:
    """Accepts connections; for each request read, sends ``answer(request_bytes)`` and closes
    the connection afterwards when ``close_after`` says so. Records (connection number, request)."""

    def __init__(self, answer, close_after=lambda request: False, unix: str | None = None) -> None:
        self.answer = answer
        self.close_after = close_after
        self.seen: list[tuple[int, bytes]] = []
        if unix:
            self.listener = socket.socket(socket.AF_UNIX)
            self.listener.bind(unix)
            self.listener.listen()
            self.port = 0
        else:
            self.listener = socket.create_server(("127.0.0.1", 0))
            self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(conn, self.connections), daemon=True).start()

    def _connection(self, conn: socket.socket, number: int) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, rest = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(rest) < length:
                    rest += conn.recv(65536)
                request, buffer = head + b"\r\n\r\n" + rest[:length], rest[length:]
                self.seen.append((number, request))
                conn.sendall(self.answer(request))
                if self.close_after(request):
                    return

    def close(self) -> None:
        self.listener.close()


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + (b"Content-Length: %d\r\n\r\n" % len(body))
        + body
    )


def chunked(body: bytes, size: int) -> bytes:
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)
    )
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"


def test_one_write_per_call_with_the_headers_given_and_reuse_of_the_connection():
    node = ScriptedNode(lambda request: ok(b'{"a":1}'))
    client = OnLoop(NodeHttp())
    try:
        for _ in range(3):
            headers = [("Content-Type", "application/json"), ("Seldon-Puid", "p")]
            answer = client.request("POST", "127.0.0.1", node.port, "/predict", headers, b"{}")
            assert (answer.status, answer.body) == (200, b'{"a":1}')
            assert answer.headers["content-type"] == "application/json"
        assert node.connections == 1  # kept alive
        request = node.seen[0][1]
        assert request.startswith(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % node.port)
        assert b"Seldon-Puid: p\r\n" in request and request.endswith(b"Content-Length: 2\r\n\r\n{}")
    finally:
        client.close()
        node.close()


@settings(max_examples=40, deadline=None)
@given(
    body=st.binary(max_size=3000),
    size=st.integers(1, 700),
    framing=st.sampled_from(["length", "chunked", "eof"]),
)
def test_every_framing_gives_the_body_byte_for_byte(body, size, framing):
    if framing == "length":
        node = ScriptedNode(lambda request: ok(body))
    elif framing == "chunked":
        node = ScriptedNode(lambda request: chunked(body, size))
    else:  # no length, no chunks: the body ends with the connection
        node = ScriptedNode(lambda request: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body,
                            close_after=lambda request: True)  # fmt: skip
    client = OnLoop(NodeHttp(timeout_s=5))
    try:
        answer = client.request("GET", "127.0.0.1", node.port, "/metadata", [])
        assert (answer.status, answer.body) == (200, body)
    finally:
        client.close()
        node.close()


def test_a_kept_connection_the_node_closed_is_replaced_and_the_call_sent_once():
    node = ScriptedNode(lambda request: ok(b"x"), close_after=lambda request: True)
    client = OnLoop(NodeHttp())
    try:
        for _ in range(3):
            assert client.request("POST", "127.0.0.1", node.port, "/predict", [], b"{}").body == b"x"
        time.sleep(0.1)
        assert len(node.seen) == 3 and node.connections == 3  # every call reached it once
    finally:
        client.close()
        node.close()


def test_a_refused_connection_and_a_deadline_are_clear_errors():
    client = OnLoop(NodeHttp(timeout_s=0.3))
    with pytest.raises(HttpError, match="connection refused"):
        client.request("POST", "127.0.0.1", free_port(), "/predict", [], b"{}")
    node = ScriptedNode(lambda request: (time.sleep(1), ok(b"late"))[1])
    try:
        started = time.monotonic()
        with pytest.raises(HttpError, match="Client.Timeout exceeded") as caught:
            client.request("POST", "127.0.0.1", node.port, "/predict", [], b"{}")
        assert caught.value.timeout and time.monotonic() - started < 0.9
    finally:
        client.close()
        node.close()


def test_an_answer_cut_short_is_an_error_not_a_short_body():
    node = ScriptedNode(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                        close_after=lambda request: True)  # fmt: skip
    client = OnLoop(NodeHttp(timeout_s=2))
    try:
        with pytest.raises(HttpError, match="closed the connection mid-answer"):
            client.request("POST", "127.0.0.1", node.port, "/predict", [], b"{}")
    finally:
        client.close()
        node.close()


def test_garbage_from_a_node_is_an_error():
    node = ScriptedNode(lambda request: b"NOT HTTP AT ALL\r\n\r\n", close_after=lambda request: True)
    client = OnLoop(NodeHttp(timeout_s=2))
    try:
        with pytest.raises(HttpError, match="malformed HTTP response"):
            client.request("POST", "127.0.0.1", node.port, "/predict", [], b"{}")
    finally:
        client.close()
        node.close()


def test_a_node_with_a_unix_socket_is_called_there_on_one_kept_connection(tmp_path):
    path = str(tmp_path / "node.sock")
    node = ScriptedNode(lambda request: ok(b'{"u":1}'), unix=path)
    client = OnLoop(NodeHttp(timeout_s=5))
    try:
        for _ in range(3):
            answer = client.request("POST", "127.0.0.1", 9999, "/predict", [], b"{}", unix=path)
            assert (answer.status, answer.body) == (200, b'{"u":1}')
        assert node.connections == 1
        assert node.seen[0][1].startswith(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:9999\r\n")
        with pytest.raises(HttpError, match="connection refused"):
            client.request("POST", "127.0.0.1", 9999, "/predict", [], b"{}", unix=str(tmp_path / "gone.sock"))
    finally:
        client.close()
        node.close()
