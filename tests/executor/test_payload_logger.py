"""executor/payload_logger.py against a real HTTP sink: the CloudEvents a logging sink receives,
and what the inference request never feels (a full queue, a sink that is down, slow or failing)."""

from __future__ import annotations

import gzip
import http.server
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_wrapper.executor import graph
from seldon_wrapper.executor.payload_logger import (
    FEEDBACK,
    REQUEST,
    RESPONSE,
    PayloadLogger,
    skip_logging,
    wants,
)
from tests.conftest import free_port

LOGGER_NAME = "seldon_wrapper.executor.payload_logger"
SECRET = b'{"data":{"ndarray":["4111-1111-1111-1111 top secret payload"]}}'


@dataclass
class Seen:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        assert len(values) <= 1, f"header {name} sent {len(values)} times"
        return values[0] if values else None

    @property
    def puid(self) -> str | None:
        return self.header("Ce-Requestid")


class _SinkHandler(http.server.BaseHTTPRequestHandler):
    """Records each POST, then (optionally) waits on the gate or sleeps, then answers."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        sink: Sink = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with sink.arrived:
            sink.seen.append(Seen(self.command, self.path, list(self.headers.items()), body))
            sink.arrived.notify_all()
        if sink.gate is not None:
            sink.gate.wait(10)
        time.sleep(sink.delay)
        self.send_response(sink.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class SinkConfig:
    status: int = 200
    delay: float = 0.0
    gate: threading.Event | None = None


class Sink(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, config: SinkConfig) -> None:
        super().__init__(("127.0.0.1", 0), _SinkHandler)
        self.status, self.delay, self.gate = config.status, config.delay, config.gate
        self.seen: list[Seen] = []
        self.arrived = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Seen]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.seen) >= count, timeout)
            return list(self.seen)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out and hung up is expected here


def _start_sink(config: SinkConfig) -> Sink:
    sink = Sink(config)
    threading.Thread(target=sink.serve_forever, args=(0.05,), daemon=True).start()
    return sink


def _stop_sink(sink: Sink) -> None:
    if sink.gate is not None:
        sink.gate.set()
    sink.shutdown()
    sink.server_close()


@pytest.fixture
def make_sink() -> Iterator[Callable[..., Sink]]:
    sinks: list[Sink] = []

    def make(**config: object) -> Sink:
        sinks.append(_start_sink(SinkConfig(**config)))  # type: ignore[arg-type]
        return sinks[-1]

    yield make
    for sink in sinks:
        _stop_sink(sink)


@dataclass
class Drops:
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> None:
        with self.lock:
            self.count += 1


def _logger(default_endpoint: str, **overrides: object) -> PayloadLogger:
    options: dict[str, object] = {
        "workers": 2,
        "buffer_size": 100,
        "write_timeout_ms": 2000,
        "source": "http://:8000/",
        "deployment": "my-sdep",
        "namespace": "my-ns",
        "predictor": "my-predictor",
        "protocol": "seldon",
        "default_endpoint": default_endpoint,
        "timeout_s": 5.0,
    }
    options.update(overrides)
    return PayloadLogger(**options)  # type: ignore[arg-type]


@pytest.fixture
def make_logger(make_sink: Callable[..., Sink]) -> Iterator[Callable[..., PayloadLogger]]:
    """Loggers closed (briefly) before the sinks stop; make_sink is torn down after this."""
    loggers: list[PayloadLogger] = []

    def make(default_endpoint: str, **overrides: object) -> PayloadLogger:
        loggers.append(_logger(default_endpoint, **overrides))
        return loggers[-1]

    yield make
    for payload_logger in loggers:
        payload_logger.close(timeout_s=1.0)


def node(name: str = "classifier", mode: str | None = "all", url: str | None = None) -> graph.Node:
    logger = None if mode is None else {"mode": mode, **({"url": url} if url else {})}
    return graph.Node(name, graph.MODEL, graph.UNKNOWN_IMPLEMENTATION, (), (), None, (), logger)


def _messages(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER_NAME and r.levelno >= level]


# -- the event a sink receives ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "ce_type"),
    [
        (REQUEST, "io.seldon.serving.inference.request"),
        (RESPONSE, "io.seldon.serving.inference.response"),
        (FEEDBACK, "io.seldon.serving.feedback"),
    ],
)
def test_event_is_a_binary_cloudevent_with_every_attribute(make_sink, make_logger, kind, ce_type):
    sink = make_sink()
    payload_logger = make_logger(sink.url + "/")
    before = datetime.now(UTC)
    payload_logger.log(node("classifier"), kind, SECRET, "application/json", None, "puid-123")
    (seen,) = sink.wait_for(1)
    after = datetime.now(UTC)

    assert (seen.method, seen.path, seen.body) == ("POST", "/", SECRET)
    expected = {
        "Ce-Specversion": "1.0",
        "Ce-Type": ce_type,
        "Ce-Source": "http://:8000/",
        "Ce-Modelid": "classifier",
        "Ce-Requestid": "puid-123",
        "Ce-Inferenceservicename": "my-sdep",
        "Ce-Namespace": "my-ns",
        "Ce-Endpoint": "my-predictor",
        "Ce-Protocol": "seldon",
        "Content-Type": "application/json",
    }
    for name, value in expected.items():
        assert seen.header(name) == value, name
    assert uuid.UUID(seen.header("Ce-Id")).version == 4
    sent_at = datetime.fromisoformat(seen.header("Ce-Time"))
    assert sent_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= sent_at <= after + timedelta(seconds=1)
    ce_names = {name for name, _ in seen.headers if name.lower().startswith("ce-")}
    assert ce_names == {name for name in expected if name.startswith("Ce-")} | {"Ce-Id", "Ce-Time"}


def test_every_event_has_its_own_id(make_sink, make_logger):
    sink = make_sink()
    payload_logger = make_logger(sink.url)
    for i in range(5):
        payload_logger.log(node(), REQUEST, b"{}", "application/json", None, f"p{i}")
    seen = sink.wait_for(5)
    assert len({event.header("Ce-Id") for event in seen}) == 5


@pytest.mark.parametrize("content_type", ["", None])
def test_an_empty_content_type_is_left_out(make_sink, make_logger, content_type):
    sink = make_sink()
    make_logger(sink.url).log(node(), RESPONSE, b"\x08\x01", content_type, None, "p")
    (seen,) = sink.wait_for(1)
    assert seen.header("Content-Type") is None
    assert seen.body == b"\x08\x01"


def test_the_nodes_url_wins_over_the_default_endpoint(make_sink, make_logger):
    own, default = make_sink(), make_sink()
    payload_logger = make_logger(default.url + "/default")
    payload_logger.log(node("a", url=own.url + "/log/here"), REQUEST, b"a", "text/plain", None, "pa")
    payload_logger.log(node("b"), REQUEST, b"b", "text/plain", None, "pb")
    (to_own,) = own.wait_for(1)
    (to_default,) = default.wait_for(1)
    assert (to_own.path, to_own.header("Ce-Modelid"), to_own.body) == ("/log/here", "a", b"a")
    assert (to_default.path, to_default.header("Ce-Modelid"), to_default.body) == ("/default", "b", b"b")
    payload_logger.close()
    assert len(own.seen) == len(default.seen) == 1


@pytest.mark.parametrize(
    ("data", "encoding", "arrives"),
    [
        (gzip.compress(SECRET), "gzip", SECRET),
        (gzip.compress(SECRET), "GZIP", SECRET),
        (b"not gzip at all", "gzip", b"not gzip at all"),  # claims gzip, isn't: sent as is
        (gzip.compress(SECRET), None, gzip.compress(SECRET)),  # not declared: not unzipped
    ],
    ids=["gzip", "upper-case", "bad-gzip", "undeclared"],
)
def test_gzip_bodies_arrive_unzipped(make_sink, make_logger, data, encoding, arrives):
    sink = make_sink()
    make_logger(sink.url).log(node(), REQUEST, data, "application/json", encoding, "p")
    (seen,) = sink.wait_for(1)
    assert seen.body == arrives


# -- the request never waits for the logger -----------------------------------------------------


def test_a_full_queue_drops_the_event_after_the_write_timeout(make_sink, make_logger, caplog):
    gate = threading.Event()
    sink = make_sink(gate=gate)
    drops = Drops()
    payload_logger = make_logger(sink.url, workers=1, buffer_size=1, write_timeout_ms=200, on_drop=drops)
    payload_logger.log(node(), REQUEST, b"1", "text/plain", None, "p1")
    sink.wait_for(1)  # the one worker is now stuck posting event 1
    payload_logger.log(node(), REQUEST, b"2", "text/plain", None, "p2")  # fills the queue
    assert drops.count == 0

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        payload_logger.log(node("full-node"), REQUEST, SECRET, "text/plain", None, "p3")
    waited = time.monotonic() - started
    assert drops.count == 1
    assert 0.15 <= waited < 0.7
    (record,) = _messages(caplog, logging.WARNING)
    assert "full-node" in record.getMessage() and "p3" in record.getMessage()
    assert SECRET.decode() not in caplog.text

    gate.set()
    payload_logger.close(timeout_s=5)
    assert [event.puid for event in sink.seen] == ["p1", "p2"]


def test_a_sink_that_is_down_costs_the_request_nothing(make_logger, caplog):
    url = f"http://127.0.0.1:{free_port()}/down"
    payload_logger = make_logger(url)
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        started = time.monotonic()
        payload_logger.log(node(), REQUEST, SECRET, "application/json", None, "p")
        assert time.monotonic() - started < 0.1
        payload_logger.close(timeout_s=5)
    (record,) = _messages(caplog, logging.WARNING)
    assert record.levelno == logging.WARNING
    assert url in record.getMessage() and "refused" in record.getMessage().lower()
    assert record.exc_info is None and "Traceback" not in caplog.text
    assert "4111" not in caplog.text


def test_an_error_status_is_logged_not_raised(make_sink, make_logger, caplog):
    sink = make_sink(status=500)
    payload_logger = make_logger(sink.url + "/events")
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        payload_logger.log(node(), RESPONSE, SECRET, "application/json", None, "p")
        payload_logger.close(timeout_s=5)
    assert len(sink.seen) == 1  # sent once: no retries
    (record,) = _messages(caplog, logging.WARNING)
    assert sink.url + "/events" in record.getMessage() and "500" in record.getMessage()
    assert "4111" not in caplog.text and record.exc_info is None


def test_a_slow_sink_times_out_and_never_delays_the_request(make_sink, make_logger, caplog):
    sink = make_sink(delay=1.5)
    payload_logger = make_logger(sink.url, timeout_s=0.3)
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        started = time.monotonic()
        payload_logger.log(node(), REQUEST, SECRET, "application/json", None, "p")
        assert time.monotonic() - started < 0.1
        payload_logger.close(timeout_s=5)
        closed_after = time.monotonic() - started
    assert closed_after < 1.2  # the 0.3 s timeout, not the sink's 1.5 s, ended the post
    (record,) = _messages(caplog, logging.WARNING)
    assert sink.url in record.getMessage() and "timed out" in record.getMessage()
    assert "4111" not in caplog.text


def test_log_never_raises(make_sink, make_logger, caplog):
    sink = make_sink()
    payload_logger = make_logger(sink.url)
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        payload_logger.log(node(url="not a url"), REQUEST, SECRET, "text/plain", None, "p")
        payload_logger.log(node(), "no-such-kind", SECRET, "text/plain", None, "p")
        payload_logger.close(timeout_s=5)
    assert len(_messages(caplog, logging.WARNING)) == 2
    assert "4111" not in caplog.text and "Traceback" not in caplog.text
    assert sink.seen == []


# -- closing ------------------------------------------------------------------------------------


def test_close_delivers_what_is_queued(make_sink, make_logger):
    sink = make_sink(delay=0.02)
    payload_logger = make_logger(sink.url, workers=1)
    puids = [f"p{i}" for i in range(15)]
    for puid in puids:
        payload_logger.log(node(), REQUEST, puid.encode(), "text/plain", None, puid)
    payload_logger.close(timeout_s=5)
    assert [event.puid for event in sink.seen] == puids  # all of them, in order, before close returned
    assert [event.body for event in sink.seen] == [puid.encode() for puid in puids]


def test_close_gives_up_at_its_timeout_and_later_events_are_dropped(make_sink, make_logger):
    gate = threading.Event()
    sink = make_sink(gate=gate)
    drops = Drops()
    payload_logger = make_logger(sink.url, workers=1, on_drop=drops)
    for i in range(4):
        payload_logger.log(node(), REQUEST, b"x", "text/plain", None, f"p{i}")
    sink.wait_for(1)
    started = time.monotonic()
    payload_logger.close(timeout_s=0.3)
    assert 0.25 <= time.monotonic() - started < 1.0
    assert drops.count == 3  # the three still queued behind the stuck post
    payload_logger.log(node(), REQUEST, b"x", "text/plain", None, "late")
    assert drops.count == 4
    gate.set()
    time.sleep(0.1)
    assert [event.puid for event in sink.seen] == ["p0"]


def test_workers_start_on_the_first_event_not_before(make_sink, make_logger):
    sink = make_sink()

    def ours() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("payload-logger") and t.is_alive()]

    before = set(ours())
    payload_logger = make_logger(sink.url, workers=3)
    assert set(ours()) == before
    payload_logger.log(node(), REQUEST, b"x", "text/plain", None, "p")
    assert len(set(ours()) - before) == 3
    sink.wait_for(1)
    payload_logger.close(timeout_s=5)
    assert set(ours()) - before == set()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_its_own_workers(make_sink, make_logger):
    sink = make_sink()
    payload_logger = make_logger(sink.url, workers=1)
    payload_logger.log(node(), REQUEST, b"parent", "text/plain", None, "parent")
    sink.wait_for(1)
    pid = os.fork()
    if pid == 0:  # the child: the parent's worker thread did not come along
        code = 1
        try:
            payload_logger.log(node(), REQUEST, b"child", "text/plain", None, "child")
            payload_logger.close(timeout_s=5)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    seen = sink.wait_for(2)
    assert sorted((event.puid, event.body) for event in seen) == [("child", b"child"), ("parent", b"parent")]


# -- what the walk asks ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "on", "1", "TRUE", "On", " true "])
@pytest.mark.parametrize("name", ["Seldon-Skip-Logging", "seldon-skip-logging", "SELDON-SKIP-LOGGING"])
def test_skip_logging_when_the_client_asks(name, value):
    assert skip_logging({name: value}) is True
    assert skip_logging([("Content-Type", "application/json"), (name, value)]) is True


@pytest.mark.parametrize("value", ["false", "0", "off", "", "yes", "truee"])
def test_no_skip_logging_otherwise(value):
    assert skip_logging({"Seldon-Skip-Logging": value}) is False
    assert skip_logging([("Seldon-Skip-Logging", value)]) is False


def test_no_skip_logging_without_the_header():
    assert skip_logging({}) is False
    assert skip_logging([]) is False
    assert skip_logging([("Seldon-Skip-Logging-Not", "true"), ("X-Other", "1")]) is False


@pytest.mark.parametrize(
    ("mode", "logged"),
    [
        ("all", {REQUEST, RESPONSE, FEEDBACK}),
        ("request", {REQUEST}),
        ("response", {RESPONSE, FEEDBACK}),
        (None, set()),
    ],
)
def test_wants_follows_the_nodes_logger_mode(mode, logged):
    for kind in (REQUEST, RESPONSE, FEEDBACK):
        assert wants(node(mode=mode), kind) is (kind in logged), kind


# -- any payload arrives byte-exact ---------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_sink() -> Iterator[Sink]:
    sink = _start_sink(SinkConfig())
    yield sink
    _stop_sink(sink)


@pytest.fixture(scope="module")
def shared_logger(shared_sink: Sink) -> Iterator[PayloadLogger]:
    payload_logger = _logger(shared_sink.url)
    yield payload_logger
    payload_logger.close(timeout_s=2)


_TOKEN = st.from_regex(r"[A-Za-z0-9!#$&^_.+-]{1,20}", fullmatch=True)
CONTENT_TYPES = st.builds(lambda a, b: f"{a}/{b}", _TOKEN, _TOKEN) | st.sampled_from(
    ["application/json", "application/protobuf", "application/json; charset=utf-8"]
)


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=4096), content_type=CONTENT_TYPES, zipped=st.booleans())
def test_any_body_and_content_type_arrive_byte_exact(shared_sink, shared_logger, body, content_type, zipped):
    puid = str(uuid.uuid4())
    data, encoding = (gzip.compress(body), "gzip") if zipped else (body, None)
    shared_logger.log(node(), RESPONSE, data, content_type, encoding, puid)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        mine = [event for event in list(shared_sink.seen) if event.puid == puid]
        if mine:
            break
        time.sleep(0.002)
    assert len(mine) == 1
    assert mine[0].body == body
    assert mine[0].header("Content-Type") == content_type
