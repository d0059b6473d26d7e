"""The non-blocking request reader (speedups/http_reader.py): requests from bytes as they come."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seldon_wrapper.speedups.http_reader import ReadLimits, Refusal, RequestReader

LIMITS = ReadLimits(max_body=1000, header_timeout=10, body_timeout=10, body_min_rate=100)


def reader(limits: ReadLimits = LIMITS, continues: list | None = None) -> RequestReader:
    return RequestReader(limits, "http", lambda: continues.append(1) if continues is not None else None)


def post(body: bytes, path: str = "/api/v1.0/predictions", extra: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def chunked(body: bytes, path: str = "/p", size: int = 3) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return head + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def summary(request) -> tuple:
    return (
        request.method,
        request.uri,
        request.path,
        request.query,
        request.version,
        request.headers,
        request.body.read(),
        request.should_close(),
    )


def refusal_of(read: RequestReader, data: bytes, now: float = 0.0) -> Refusal:
    with pytest.raises(Refusal) as caught:
        read.feed(data, now)
    return caught.value


def test_a_request_is_ready_only_once_its_body_has_arrived():
    read = reader()
    data = post(b'{"data":{"ndarray":[1]}}', "/api/v1.0/predictions?x=1")
    read.feed(data[:-3], 0)
    assert not read.ready and read.busy
    read.feed(data[-3:], 0)
    assert [summary(r) for r in read.ready] == [
        (
            "POST",
            "/api/v1.0/predictions?x=1",
            "/api/v1.0/predictions",
            "x=1",
            (1, 1),
            [("HOST", "x"), ("CONTENT-LENGTH", "24")],
            b'{"data":{"ndarray":[1]}}',
            False,
        )
    ]
    assert not read.busy


_requests = st.lists(
    st.tuples(
        st.sampled_from(["/a", "/api/v1.0/predictions", "/v2/models/m/infer?q=2", "//odd", "http://h/abs?x"]),
        st.binary(max_size=300),
        st.booleans(),
        st.sampled_from(["", "Connection: keep-alive\r\n", "X-Custom: v \r\n"]),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_requests, st.lists(st.integers(min_value=1, max_value=64), max_size=30))
def test_requests_split_anywhere_read_the_same_as_sent_whole(requests, cuts):
    data = b"".join(
        chunked(body, path) if is_chunked else post(body, path, extra)
        for path, body, is_chunked, extra in requests
    )
    whole = reader()
    whole.feed(data, 0)
    pieces = reader()
    at = 0
    for cut in cuts:
        pieces.feed(data[at : at + cut], 0)
        at += cut
    pieces.feed(data[at:], 0)
    expected = [summary(r) for r in whole.ready]
    assert [summary(r) for r in pieces.ready] == expected
    assert [(m, b) for m, _, _, _, _, _, b, _ in expected] == [("POST", body) for _, body, _, _ in requests]


@settings(max_examples=400)
@given(st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=5))
def test_any_bytes_give_requests_or_a_refusal_never_another_error(chunks):
    read = reader()
    try:
        for chunk in chunks:
            read.feed(chunk, 0)
    except Refusal as refusal:
        assert refusal.status in (400, 413, 414, 431)


def test_a_declared_body_over_the_limit_is_refused_before_any_of_it_arrives():
    read = reader()
    refusal = refusal_of(read, b"POST /v2/models/m/infer HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
    assert (refusal.status, refusal.kind, refusal.method, refusal.path) == (
        413,
        "rest_body",
        "POST",
        "/v2/models/m/infer",
    )
    assert "1001 bytes" in str(refusal)


def test_a_chunked_body_is_refused_once_it_passes_the_limit():
    read = reader()
    data = chunked(b"x" * 1001, size=100)
    read.feed(data[: len(data) // 2], 0)  # under the limit so far
    assert refusal_of(read, data[len(data) // 2 :]).status == 413
    at_limit = reader()
    at_limit.feed(chunked(b"x" * 1000, size=100), 0)
    assert at_limit.ready[0].body.read() == b"x" * 1000


def test_a_limit_of_zero_takes_any_size():
    read = reader(ReadLimits(max_body=0))
    read.feed(post(b"y" * 5000), 0)
    assert len(read.ready[0].body.read()) == 5000


def test_headers_not_complete_in_time_are_a_408():
    read = reader()
    assert read.expired(100) is None  # nothing begun: the idle timer is the worker's
    read.feed(b"POST /api/v1.0/predictions HTTP/1.1\r\nHo", 5.0)
    assert read.expired(14.9) is None
    refusal = read.expired(15.0)
    assert refusal is not None and (refusal.status, refusal.kind) == (408, "timeout")
    assert "headers" in str(refusal)


def test_a_body_has_its_time_plus_one_second_per_min_rate_bytes():
    read = reader()
    read.feed(b"POST /v2/models/m/infer HTTP/1.1\r\nContent-Length: 900\r\n\r\n", 0.0)
    read.feed(b"z" * 300, 4.0)  # 300 bytes at 100 B/s earn 3 more seconds: deadline 13
    assert read.expired(12.9) is None
    refusal = read.expired(13.0)
    assert (refusal.status, refusal.path) == (408, "/v2/models/m/infer")
    assert "body" in str(refusal)


def test_a_client_waiting_for_100_continue_gets_it_once_the_headers_pass():
    continues: list = []
    read = reader(continues=continues)
    read.feed(post(b"", extra="Expect: 100-continue\r\n")[:-2] + b"", 0)  # Content-Length 0: no wait
    read.feed(b"\r\n", 0)
    assert continues == []
    read.feed(b"POST /p HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", 0)
    assert continues == [1]
    read.feed(b"abc", 0)
    assert read.ready[-1].body.read() == b"abc"
    over = reader(continues=continues)
    refusal_of(over, b"POST /p HTTP/1.1\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
    assert continues == [1]  # refused instead: the body is never asked for


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nX-Endless: " + b"v" * 900_000, 431),
        (b"NOT A REQUEST LINE\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    ],
)
def test_gunicorns_header_limits_and_malformed_requests_are_refused(data, status):
    assert refusal_of(reader(), data).status == status


def test_header_names_with_underscores_are_dropped_as_gunicorn_does():
    read = reader()
    read.feed(b"GET / HTTP/1.1\r\nX_Forwarded: evil\r\nX-Ok: 1\r\n\r\n", 0)
    assert read.ready[0].headers == [("X-OK", "1")]
    strict = reader(ReadLimits(header_map="refuse"))
    assert refusal_of(strict, b"GET / HTTP/1.1\r\nX_Forwarded: evil\r\n\r\n").status == 400


@pytest.mark.parametrize(
    ("head", "closes"),
    [
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", True),
        (b"GET / HTTP/1.0\r\n\r\n", True),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\n\r\n", False),
    ],
)
def test_connection_close_and_http10_requests_say_they_close(head, closes):
    read = reader()
    read.feed(head + b"GET /next HTTP/1.1\r\n\r\n", 0)
    # After a request that closes the connection nothing more is read (nor refused).
    assert [r.should_close() for r in read.ready] == ([True] if closes else [False, False])


def test_an_upgrade_request_is_served_as_a_plain_one_then_the_connection_closes():
    read = reader()
    read.feed(b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nPRI * HTTP/2.0", 0)
    assert [(r.path, r.should_close()) for r in read.ready] == [("/", True)]
    read.feed(b"more", 0)  # ignored
    assert len(read.ready) == 1


def test_an_answered_expectation_is_not_passed_on_to_be_answered_again():
    read = reader(continues=[])
    read.feed(b"POST /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx", 0)
    assert read.ready[0].headers == [("CONTENT-LENGTH", "1")]
