"""The executor's REST front door (spec 3.1-3.3, 3.5, 3.7, 5, 6, 9): the handler the event-loop
HTTP server (http_server.py) runs for each request.

Bodies are not parsed: a request's bytes, content type and encoding go to the first node as they
came, and the last node's answer goes back the same way. Every matched route gets the original's
headers (``Seldon-Puid``, CloudEvents, nosniff, CORS; an ``OPTIONS`` preflight stops there); an
unknown path is a 404 and a known path with the wrong method a 405, both without them, as there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from seldon_wrapper.executor.graph import Predictor
from seldon_wrapper.executor.graph_metadata import build_graph_metadata, to_json
from seldon_wrapper.executor.http_server import HttpRequest, HttpResponse
from seldon_wrapper.executor.readiness import graph_ready
from seldon_wrapper.executor.rest_client import (
    HEADER_LENGTH,
    NOT_FORWARDED,
    PATHS,
    V2_PATHS,
    Incoming,
    RestNodeClient,
)
from seldon_wrapper.executor.seldon_rest import Body, SeldonRestPayloads, html_escape
from seldon_wrapper.executor.settings import ExecutorSettings
from seldon_wrapper.executor.v2_rest import V2RestPayloads
from seldon_wrapper.executor.walk import Request, Walk, WalkError

logger = logging.getLogger(__name__)

SKIP_LOGGING_VALUES = ("true", "on", "1")
ANY = None  # a route answering every method


@dataclass(frozen=True)
class Route:
    path: str
    pattern: re.Pattern[str]
    methods: tuple[str, ...] | None
    handler: str
    service: str | None  # the server metric's ``service`` label; None: not measured


def _route(path: str, methods: tuple[str, ...] | None, handler: str, service: str | None) -> Route:
    regex = re.escape(path).replace(r"\{model\}", "(?P<model>[^/]+)")
    return Route(path, re.compile(regex + r"\Z"), methods, handler, service)


def routes(protocol: str, prometheus_path: str) -> list[Route]:
    """The original's routes for ``protocol`` (the static OpenAPI files are not served)."""
    table = [
        _route("/live", ANY, "live", None),
        _route("/ready", ANY, "ready", None),
        _route(prometheus_path, ANY, "metrics", None),
    ]
    post, get = ("OPTIONS", "POST"), ("OPTIONS", "GET")
    if protocol in ("v2", "kfserving"):
        table += [
            _route("/v2/models/infer", post, "predict", "predictions"),
            _route("/v2/models/{model}/infer", post, "predict", "predictions"),
            _route("/v2/models/{model}/ready", get, "node_status", "status"),
            _route("/v2/models/{model}", get, "node_metadata", "metadata"),
            _route("/v2/health/ready", get, "ready", "status"),
            _route("/v2/health/live", get, "live", None),  # ours: V2 clients ask it
        ]
        return table
    for version in ("v0.1", "v1.0"):
        table += [
            _route(f"/api/{version}/predictions", post, "predict", "predictions"),
            _route(f"/api/{version}/feedback", post, "feedback", "feedback"),
            _route(f"/api/{version}/status/{{model}}", get, "node_status", "status"),
            _route(f"/api/{version}/metadata/{{model}}", get, "node_metadata", "metadata"),
        ]
    table += [
        _route("/api/v1.0/status", get, "ready", "status"),
        _route("/api/v1.0/health/status", get, "ready", "status"),
        _route("/api/v1.0/metadata", get, "graph_metadata", "metadata"),
    ]
    return table


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str | None = None
    content_encoding: str | None = None
    header_length: int | None = None


def error_body(message: str, code: int = 500) -> bytes:
    """The executor's own error: a SeldonMessage with only a FAILURE status (spec 5.2)."""
    return json.dumps(
        {"status": {"code": code, "info": message, "status": "FAILURE"}}, separators=(",", ":")
    ).encode()


class ExecutorApp:
    """The request handler; one per REST worker process (its walk and connections are made
    there, on first use, in that process's event loop)."""

    def __init__(
        self,
        predictor: Predictor,
        settings: ExecutorSettings,
        metrics: Any = None,
        payload_logger: Any = None,
        started: Any = None,
    ) -> None:
        self.predictor = predictor
        self.started = started  # False while the executor still starts its components
        self.settings = settings
        self.metrics = metrics
        self.payload_logger = payload_logger
        self.v2 = settings.v2
        self.routes = routes(settings.protocol, settings.prometheus_path)
        self.exact = {route.path: route for route in self.routes if "{model}" not in route.path}
        self._walk: Walk | None = None

    # -- per-process state ------------------------------------------------------------------

    @property
    def walk(self) -> Walk:
        """Built on first use, in the worker: a forked copy of a connection is no good."""
        if self._walk is None:
            observe = self.metrics.client if self.metrics is not None else None
            client = RestNodeClient(
                self.settings.rest_timeout_s, paths=V2_PATHS if self.v2 else PATHS, observe=observe
            )
            payloads = V2RestPayloads() if self.v2 else SeldonRestPayloads()
            log = self._log if self.payload_logger is not None else None
            self._walk = Walk(client, payloads, self.settings.routing_injection, log=log)
        return self._walk

    def close(self) -> None:
        """The worker is stopping: its kept-alive node connections go, its timings are written."""
        if self._walk is not None:
            self._walk.call.close()
        if self.metrics is not None:
            self.metrics.flush()

    def _log(self, node: Any, kind: str, message: Body, request: Request) -> None:
        from seldon_wrapper.executor.payload_logger import wants

        if wants(node, kind):
            puid = request.context.headers.get("Seldon-Puid", "")
            self.payload_logger.log(
                node, kind, message.data, message.content_type, message.content_encoding, puid
            )

    # -- requests -------------------------------------------------------------------------------

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        path, method = request.path, request.method.upper()
        route, match = self._match(path)
        if route is None:
            return _plain(404, b"404 page not found\n")
        if route.methods is not None and method not in route.methods:
            return _plain(405, b"")
        started = time.perf_counter()
        headers = dict(request.headers)
        puid = headers.get("Seldon-Puid") or str(uuid.uuid4())
        headers["Seldon-Puid"] = puid
        out = [("Seldon-Puid", puid)]
        if "Ce-Specversion" in headers:
            sdep, namespace = self.settings.sdep, self.settings.namespace
            out += [
                ("Ce-Id", puid),
                ("Ce-Specversion", "0.3"),
                ("Ce-Path", path),
                ("Ce-Type", f"seldon.{sdep}.{namespace}.response"),
                ("Ce-Source", f"seldon.{sdep}"),
            ]
        out.append(("X-Content-Type-Options", "nosniff"))
        if route.methods is not None and "OPTIONS" in route.methods:
            out.append(("Access-Control-Allow-Methods", ",".join(route.methods)))
        out.append(("Access-Control-Allow-Origin", self.settings.cors_origins))
        out.append(("Access-Control-Allow-Headers", self.settings.cors_headers))
        if method == "OPTIONS" and route.methods is not None:
            return HttpResponse(200, out)
        try:
            answer = await getattr(self, "_" + route.handler)(request, headers, match)
        except WalkError as exc:
            answer = self._failure(exc)
        except Exception as exc:  # our own bug: one line, the client gets the error body
            logger.error("Executor failure on %s %s: %s: %s", method, path, type(exc).__name__, exc)
            logger.debug("Traceback", exc_info=exc)
            answer = Answer(500, error_body(f"{type(exc).__name__}: {exc}"), "application/json")
        if answer.content_type:
            out.append(("Content-Type", answer.content_type))
        if answer.content_encoding:
            out.append(("Content-Encoding", answer.content_encoding))
        if answer.header_length is not None:
            out.append((HEADER_LENGTH, str(answer.header_length)))
        if route.service is not None and self.metrics is not None:
            self.metrics.server(
                route.service, method.lower(), str(answer.status), time.perf_counter() - started
            )
        return HttpResponse(answer.status, out, answer.body)

    def refuse(self, status: int, message: str, request: HttpRequest | None) -> HttpResponse:
        """A request the server refused by a limit (413, 408, 431, 400): the error body of the
        protocol the path speaks."""
        v2 = self.v2 if request is None else request.path.startswith("/v2/")
        answer = self._failure(WalkError(message, status=status), v2=v2)
        return HttpResponse(answer.status, [("Content-Type", "application/json")], answer.body)

    def _match(self, path: str) -> tuple[Route | None, dict[str, str]]:
        route = self.exact.get(path)
        if route is not None:
            return route, {}
        for route in self.routes:
            match = route.pattern.match(path)
            if match:
                return route, match.groupdict()
        return None, {}

    def _failure(self, exc: WalkError, v2: bool | None = None) -> Answer:
        payload = exc.payload
        if isinstance(payload, Body):  # a node's own error answer, passed through
            data = payload.data if payload.content_encoding else html_escape(payload.data)
            return Answer(exc.status, data, payload.content_type or None, payload.content_encoding)
        if exc.status >= 500:
            logger.warning("Request failed: %s", exc.message)
        if self.v2 if v2 is None else v2:  # V2 clients read errors as {"error": ...}
            body = json.dumps({"error": exc.message}, separators=(",", ":")).encode()
            return Answer(exc.status, html_escape(body), "application/json")
        return Answer(exc.status, html_escape(error_body(exc.message, exc.status)), "application/json")

    # -- handlers ---------------------------------------------------------------------------

    def _incoming(self, request: HttpRequest, headers: dict[str, str]) -> tuple[Body, Request]:
        split = headers.get(HEADER_LENGTH)
        if split is not None and not split.isdigit():
            raise WalkError(f"{HEADER_LENGTH} must be a number of bytes", status=400)
        body = Body(
            request.body,
            headers.get("Content-Type", ""),
            headers.get("Content-Encoding") or None,
            int(split) if split is not None else None,
        )
        skip = headers.get("Seldon-Skip-Logging", "").lower() in SKIP_LOGGING_VALUES
        return body, Request(Incoming(_forwarded(headers)), log=not skip)

    async def _predict(self, request: HttpRequest, headers: dict[str, str], match: dict[str, str]) -> Answer:
        body, walk_request = self._incoming(request, headers)
        walk_request.context.model_name = match.get("model")
        answer = await self.walk.predict(self.predictor.graph, body, walk_request)
        return _success(answer)

    async def _feedback(self, request: HttpRequest, headers: dict[str, str], match: dict[str, str]) -> Answer:
        body, walk_request = self._incoming(request, headers)
        answer = await self.walk.feedback(self.predictor.graph, body, walk_request)
        return _success(answer)

    def _node(self, name: str) -> Any:
        node = self.predictor.node(name)
        if node is None:
            raise WalkError(f"Failed to find model {name}", status=404)
        return node

    async def _node_status(
        self, request: HttpRequest, headers: dict[str, str], match: dict[str, str]
    ) -> Answer:
        return await self._ask_node(match["model"], "status", headers)

    async def _node_metadata(
        self, request: HttpRequest, headers: dict[str, str], match: dict[str, str]
    ) -> Answer:
        return await self._ask_node(match["model"], "metadata", headers)

    async def _ask_node(self, name: str, purpose: str, headers: dict[str, str]) -> Answer:
        """One node's own answer to a GET (V2 calls it by the name in the path)."""
        context = Incoming(_forwarded(headers), name if self.v2 else None)
        return _success(await self.walk.call(self._node(name), purpose, None, context))

    async def _graph_metadata(
        self, request: HttpRequest, headers: dict[str, str], match: dict[str, str]
    ) -> Answer:
        context = Incoming(_forwarded(headers))

        async def fetch(node: Any) -> Any:
            answer = await self.walk.call(node, "metadata", None, context)
            try:
                return json.loads(answer.data)
            except ValueError:
                raise WalkError(f"metadata of node {node.name!r} is not JSON") from None

        metadata = await build_graph_metadata(self.predictor, fetch)
        return Answer(200, html_escape(to_json(metadata)), "application/json")

    async def _live(self, request: HttpRequest, headers: dict[str, str], match: dict[str, str]) -> Answer:
        return Answer(200)

    async def _ready(self, request: HttpRequest, headers: dict[str, str], match: dict[str, str]) -> Answer:
        if self.started is not None and not self.started():
            return Answer(503)
        # Dials every node and may wait on a remote one: not on the loop, which serves the rest.
        ready = await asyncio.get_running_loop().run_in_executor(
            None, graph_ready, self.predictor, self.settings.full_health_checks, self.settings.protocol
        )
        return Answer(200 if ready else 503)

    async def _metrics(self, request: HttpRequest, headers: dict[str, str], match: dict[str, str]) -> Answer:
        if self.metrics is None:
            return Answer(404, b"metrics are off\n", "text/plain; charset=utf-8")
        exposition = await asyncio.get_running_loop().run_in_executor(None, self.metrics.exposition)
        return Answer(200, exposition, "text/plain; version=0.0.4; charset=utf-8")


def _success(message: Body) -> Answer:
    if message.content_encoding or message.header_length is not None:  # bytes we must not touch
        return Answer(
            200, message.data, message.content_type or None, message.content_encoding, message.header_length
        )
    return Answer(200, html_escape(message.data), message.content_type or None)


def _plain(status: int, body: bytes) -> HttpResponse:
    headers = [("Content-Type", "text/plain; charset=utf-8")] if body else []
    return HttpResponse(status, headers, body)


def _forwarded(headers: dict[str, str]) -> dict[str, str]:
    """Headers every node call carries; each call sets its own body's type and encoding."""
    return {name: value for name, value in headers.items() if name.lower() not in NOT_FORWARDED}
