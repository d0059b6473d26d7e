"""The REST body limit (--max-request-size / SELDON_MAX_REQUEST_SIZE) on a real server: 413 in
the protocol's error body before the body is read, chunked bodies cut while they stream, a
counter of refusals in /metrics, and the server serving the next request."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest
import requests

from tests.conftest import module_server

LIMIT = 4096
small = module_server("IdentityModel", "--max-request-size", str(LIMIT))
default = module_server("IdentityModel")

GOOD = {"data": {"ndarray": [[1, 2]]}}


def big_body() -> bytes:
    return json.dumps({"data": {"ndarray": [list(range(2000))]}}).encode()


def assert_serves(server) -> None:
    response = requests.post(server.url + "/api/v1.0/predictions", json=GOOD, timeout=10)
    assert response.json()["data"]["ndarray"] == [[1, 2]]


def refused(server) -> float:
    text = requests.get(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10).text
    match = re.search(r'^seldon_api_refused_requests_total\{[^}]*limit="rest_body"[^}]*\} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.mark.parametrize("path", ["/api/v1.0/predictions", "/predict", "/api/v1.0/feedback"])
def test_a_declared_body_over_the_limit_is_413_in_the_seldon_error_body(small, path):
    before = refused(small)
    response = requests.post(small.url + path, data=big_body(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    status = response.json()["status"]
    assert (status["code"], status["reason"], status["status"]) == (-1, "MICROSERVICE_BAD_DATA", 1)
    assert f"larger than the limit of {LIMIT} bytes" in status["info"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert refused(small) == before + 1
    assert_serves(small)


def test_v2_gets_the_v2_error_body(small):
    response = requests.post(small.url + "/v2/models/IdentityModel/infer", data=big_body(), timeout=10)
    assert response.status_code == 413
    assert list(response.json()) == ["error"] and str(LIMIT) in response.json()["error"]
    assert_serves(small)


def test_a_chunked_body_is_cut_once_it_passes_the_limit(small):
    def chunks():
        body = big_body()
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = requests.post(
        small.url + "/api/v1.0/predictions",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert f"larger than the limit of {LIMIT} bytes" in response.json()["status"]["info"]
    small_chunks = iter([json.dumps(GOOD).encode()])
    response = requests.post(
        small.url + "/api/v1.0/predictions", data=small_chunks, headers={"Content-Type": "application/json"}
    )
    assert response.json()["data"]["ndarray"] == [[1, 2]]


def test_the_answer_comes_before_the_body_and_closes_the_connection(small):
    """A client declaring a gigabyte gets 413 at once, without sending any of it."""
    with socket.create_connection(("127.0.0.1", small.http_port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        assert time.monotonic() - started < 3
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"larger than the limit" in answer
    assert_serves(small)


def test_a_body_at_the_limit_is_served(small):
    payload = {"data": {"ndarray": [[1, 2]]}, "meta": {"tags": {"pad": ""}}}
    size = len(json.dumps(payload, separators=(",", ":")))
    payload["meta"]["tags"]["pad"] = "x" * (LIMIT - size)
    body = json.dumps(payload, separators=(",", ":")).encode()
    assert len(body) == LIMIT
    response = requests.post(
        small.url + "/api/v1.0/predictions",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200


def test_the_default_limit_takes_megabytes_but_not_50(default):
    megabytes = json.dumps({"data": {"ndarray": [[0.5] * 200_000]}}).encode()  # 1 MB
    ok = requests.post(
        default.url + "/api/v1.0/predictions", data=megabytes, headers={"Content-Type": "application/json"}
    )
    assert ok.status_code == 200
    with socket.create_connection(("127.0.0.1", default.http_port), timeout=5) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 413 ")
