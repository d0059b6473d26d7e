"""Optional OpenTelemetry tracing (``pip install seldon-wrapper[tracing]``), enabled by
``--tracing`` / ``TRACING=1``.

One server span per REST or gRPC request (the incoming trace context is continued) and one
child span around the user's method. The original's ``JAEGER_*`` variables are honoured where
OpenTelemetry has an equivalent; ``OTEL_*`` variables work as usual. Set up once per serving
process, after fork. When tracing is off, ``user_span`` costs one global lookup.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

logger = logging.getLogger(__name__)

_tracer: Any = None
_NULL = contextlib.nullcontext()


def enabled() -> bool:
    return _tracer is not None


def _sampler(env: Any) -> Any:
    """JAEGER_SAMPLER_TYPE/PARAM (const, probabilistic, ratelimiting) unless OTEL_TRACES_SAMPLER is set;
    the original's default was 'always sample'."""
    from opentelemetry.sdk.trace import sampling

    if env.get("OTEL_TRACES_SAMPLER"):
        return None  # the SDK reads it
    kind = (env.get("JAEGER_SAMPLER_TYPE") or "const").lower()
    param = env.get("JAEGER_SAMPLER_PARAM")
    try:
        value = float(param) if param is not None else 1.0
    except ValueError:
        value = 1.0
    if kind == "probabilistic":
        return sampling.ParentBased(sampling.TraceIdRatioBased(value))
    if kind == "const" and value == 0:
        return sampling.ParentBased(sampling.ALWAYS_OFF)
    return sampling.ParentBased(sampling.ALWAYS_ON)


def _exporter(env: Any) -> tuple[Any, bool] | None:
    """(exporter, export immediately) from OTEL_TRACES_EXPORTER: otlp (default), console, none."""
    choice = (env.get("OTEL_TRACES_EXPORTER") or "otlp").split(",")[0].strip().lower()
    if choice == "none":
        return None
    if choice == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(formatter=lambda span: span.to_json(indent=None) + "\n"), True
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError:
        logger.warning(
            "Tracing: the OTLP exporter is not installed (pip install 'seldon-wrapper[tracing]'); "
            "spans are not exported (set OTEL_TRACES_EXPORTER=console to print them)"
        )
        return None
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not endpoint and env.get("JAEGER_AGENT_HOST"):
        endpoint = f"http://{env['JAEGER_AGENT_HOST']}:4317"  # Jaeger accepts OTLP on 4317
    return (OTLPSpanExporter(endpoint=endpoint, insecure=True) if endpoint else OTLPSpanExporter()), False


def setup(tracing: int, service_name: str, env: Any = None) -> bool:
    """Configure tracing in this process; False (with one warning) when OpenTelemetry is missing."""
    global _tracer
    if not tracing:
        return False
    env = os.environ if env is None else env
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        logger.warning(
            "Tracing requested but OpenTelemetry is not installed "
            "(pip install 'seldon-wrapper[tracing]'); serving without tracing"
        )
        return False
    name = env.get("OTEL_SERVICE_NAME") or env.get("JAEGER_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({"service.name": name}), sampler=_sampler(env))
    exporter = _exporter(env)
    if exporter is not None:
        span_exporter, immediate = exporter
        processor = SimpleSpanProcessor(span_exporter) if immediate else BatchSpanProcessor(span_exporter)
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _tracer = provider.get_tracer("seldon_wrapper")
    return True


def server_span(name: str, carrier: Any, attributes: dict | None = None) -> Any:
    """Start (not enter) a SERVER span continuing the trace context found in ``carrier``."""
    from opentelemetry import context, propagate, trace

    parent = propagate.extract(carrier)
    span = _tracer.start_span(name, context=parent, kind=trace.SpanKind.SERVER, attributes=attributes)
    token = context.attach(trace.set_span_in_context(span, parent))
    return span, token


def end_server_span(span: Any, token: Any, status_code: int | str | None = None, error: bool = False) -> None:
    from opentelemetry import context, trace

    if status_code is not None:
        span.set_attribute(
            "http.response.status_code" if isinstance(status_code, int) else "rpc.grpc.status_code",
            status_code,
        )
    if error:
        span.set_status(trace.Status(trace.StatusCode.ERROR))
    span.end()
    context.detach(token)


def user_span(name: str) -> Any:
    """A child span around a user method (a no-op when tracing is off)."""
    if _tracer is None:
        return _NULL
    return _tracer.start_as_current_span(name)
