"""Tracing (OpenTelemetry, console exporter) and log formats, against the real server."""

import json

import requests

from seldon_wrapper.proto import prediction_pb2, prediction_pb2_grpc
from tests.e2e.grpc_helpers import grpc_channel
from tests.e2e.metrics_helpers import scrape

PARENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT_SPAN = "b7ad6b7169203331"


def _spans(log: str) -> list[dict]:
    spans = []
    for line in log.splitlines():
        if line.startswith('{"name"'):
            spans.append(json.loads(line))
    return spans


def test_one_trace_per_request_with_user_span_and_propagated_parent(serve):
    server = serve("IdentityModel", "--tracing", env={"OTEL_TRACES_EXPORTER": "console"})
    headers = {"traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"}
    response = requests.post(
        server.url + "/api/v1.0/predictions", json={"data": {"ndarray": [[1, 2]]}}, headers=headers
    )
    assert response.status_code == 200
    grpc_trace = "1" * 32
    with grpc_channel(server) as channel:
        prediction_pb2_grpc.ModelStub(channel).Predict(
            prediction_pb2.SeldonMessage(strData="x"),
            metadata=[("traceparent", f"00-{grpc_trace}-{PARENT_SPAN}-01")],
        )
    requests.get(server.url + "/health/status")  # no incoming context: a new trace
    server.stop()
    spans = _spans(server.log())
    by_trace: dict[str, list[dict]] = {}
    for span in spans:
        by_trace.setdefault(span["context"]["trace_id"], []).append(span)

    rest = {s["name"]: s for s in by_trace["0x" + PARENT_TRACE]}
    assert set(rest) == {"POST /api/v1.0/predictions", "predict"}
    assert rest["POST /api/v1.0/predictions"]["parent_id"] == "0x" + PARENT_SPAN
    assert rest["POST /api/v1.0/predictions"]["kind"] == "SpanKind.SERVER"
    assert rest["predict"]["parent_id"] == rest["POST /api/v1.0/predictions"]["context"]["span_id"]
    assert rest["POST /api/v1.0/predictions"]["attributes"]["http.response.status_code"] == 200

    rpc = {s["name"]: s for s in by_trace["0x" + grpc_trace]}
    assert set(rpc) == {"seldon.protos.Model/Predict", "predict"}
    assert rpc["seldon.protos.Model/Predict"]["parent_id"] == "0x" + PARENT_SPAN
    assert rpc["predict"]["parent_id"] == rpc["seldon.protos.Model/Predict"]["context"]["span_id"]

    status = [s for s in spans if s["name"] == "GET /health/status"]
    assert len(status) == 1 and status[0]["parent_id"] is None
    assert status[0]["resource"]["attributes"]["service.name"] == "IdentityModel"


def test_jaeger_service_name_and_sampler_are_honoured(serve):
    server = serve(
        "IdentityModel",
        "--tracing",
        env={
            "OTEL_TRACES_EXPORTER": "console",
            "JAEGER_SERVICE_NAME": "my-service",
            "JAEGER_SAMPLER_TYPE": "const",
            "JAEGER_SAMPLER_PARAM": "0",
        },
    )
    assert requests.get(server.url + "/health/status").status_code == 200
    server.stop()
    assert _spans(server.log()) == []  # const 0: nothing sampled

    env = {"OTEL_TRACES_EXPORTER": "console", "JAEGER_SERVICE_NAME": "svc"}
    server = serve("IdentityModel", "--tracing", "--grpc-workers", "0", env=env)
    assert requests.get(server.url + "/health/status").status_code == 200
    server.stop()
    (span,) = [s for s in _spans(server.log()) if s["name"] == "GET /health/status"]
    assert span["resource"]["attributes"]["service.name"] == "svc"


def test_tracing_without_opentelemetry_warns_once_and_serves(serve, tmp_path):
    shadow = tmp_path / "shadow" / "opentelemetry"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('opentelemetry hidden by the test')\n")
    server = serve(
        "IdentityModel", "--tracing", "--grpc-workers", "0", env={"PYTHONPATH": str(shadow.parent)}
    )
    response = requests.post(server.url + "/api/v1.0/predictions", json={"data": {"ndarray": [[1]]}})
    assert response.status_code == 200
    server.stop()
    warnings = [line for line in server.log().splitlines() if "OpenTelemetry is not installed" in line]
    assert len(warnings) == 1  # one REST worker, gRPC off
    assert "Traceback" not in server.log()


def test_json_log_format_is_one_object_per_line(serve):
    server = serve("IdentityModel", "--access-log", env={"SELDON_LOG_FORMAT": "json"})
    requests.post(server.url + "/api/v1.0/predictions", json={"data": {"ndarray": [[7, 8]]}})
    requests.get(server.url + "/nope")
    server.stop()
    lines = [line for line in server.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON
    assert {"time", "level", "logger", "message"} <= set(records[0])
    loggers = {r["logger"] for r in records}
    assert {"seldon_wrapper.cli", "gunicorn.error", "gunicorn.access"} <= loggers
    access = [r["message"] for r in records if r["logger"] == "gunicorn.access"]
    assert any("POST /api/v1.0/predictions" in m for m in access)
    assert not any("[[7, 8]]" in r["message"] or "[[7,8]]" in r["message"] for r in records)  # no payloads


def test_payloads_are_not_logged_at_info(serve):
    server = serve("IdentityModel")
    requests.post(server.url + "/api/v1.0/predictions", json={"data": {"ndarray": [[123456789]]}})
    requests.post(server.url + "/api/v1.0/predictions", json={"data": {"ndarray": [[1], [2, 987654321]]}})
    server.stop()
    assert "123456789" not in server.log()
    assert "987654321" not in server.log()


def test_scrapes_are_not_access_logged_by_default(serve):
    server = serve("IdentityModel", "--access-log")
    requests.get(server.url + "/health/ping")
    scrape(server)
    server.stop()
    log = server.log()
    assert "GET /health/ping" in log
    assert "GET /metrics" not in log
