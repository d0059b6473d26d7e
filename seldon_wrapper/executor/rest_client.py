"""Calls to graph nodes over REST, on pooled keep-alive connections (spec 3.6, 5.1-5.3).

Kept-alive connections per node address (http_client.py), shared by every request of the
executor's event loop, so a walk opens no connection once the pool is warm. A node's non-200 answer keeps its
status and body (the client gets them); a failed call (refused, reset, timed out) is a 500 whose
text says which call failed, in the original's words where they help
(``Post "http://h:p/predict": ...``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seldon_wrapper.executor.graph import Node
from seldon_wrapper.executor.http_client import POOL_SIZE, HttpError, NodeHttp
from seldon_wrapper.executor.seldon_rest import Body
from seldon_wrapper.executor.walk import ROUTE, WalkError

#: Request headers never copied to a node: the call sets its own.
NOT_FORWARDED = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "transfer-encoding",
        "connection",
        "content-encoding",
        "inference-header-content-length",
    }
)
#: V2's binary extension: where a body's JSON part ends.
HEADER_LENGTH = "Inference-Header-Content-Length"

#: purpose -> path at the node, for the seldon protocol and for V2 (``{name}``: the model name).
PATHS = {
    "predict": "/predict",
    "transform-input": "/transform-input",
    "transform-output": "/transform-output",
    "route": "/route",
    "aggregate": "/aggregate",
    "send-feedback": "/send-feedback",
    "status": "/health/status",
    "metadata": "/metadata",
}
V2_PATHS = {
    "predict": "/v2/models/{name}/infer",
    "transform-input": "/v2/models/{name}/infer",
    "transform-output": "/v2/models/{name}/infer",
    "route": "/v2/models/{name}/route",
    "aggregate": "/v2/models/{name}/aggregate",
    "status": "/v2/models/{name}/ready",
    "metadata": "/v2/models/{name}",
}

#: ``observe(model_name, service, method, code, seconds)`` after each call that got an answer.
Observer = Callable[[str, str, str, str, float], None]


@dataclass
class Incoming:
    """What a client's request gives every node call: its headers (``Seldon-Puid`` included)
    and, for ``/v2/models/{model}/infer``, the model name every node is called by."""

    headers: dict[str, str] = field(default_factory=dict)
    model_name: str | None = None


class RestNodeClient:
    """``NodeClient`` over REST. ``context`` is an ``Incoming`` (or just the client's headers as
    (name, value) pairs), forwarded to every node (``Seldon-Puid`` among them)."""

    def __init__(
        self,
        timeout_s: float | None = None,
        pool_size: int = POOL_SIZE,
        paths: Mapping[str, str] = PATHS,
        observe: Observer | None = None,
    ) -> None:
        self.paths = paths
        self.observe = observe
        self._http = NodeHttp(timeout_s, pool_size)

    def url(self, node: Node, purpose: str, model_name: str | None = None) -> str:
        endpoint = node.endpoint
        if endpoint is None:
            raise WalkError(f"node {node.name!r} has no endpoint")
        path = self.paths.get(purpose)
        if path is None:
            raise WalkError(f"node {node.name!r} cannot be called for {purpose} over this protocol")
        path = path.format(name=model_name or node.name)
        return f"http://{endpoint.service_host}:{endpoint.http_port}{path}"

    async def __call__(self, node: Node, purpose: str, message: Body | None, context: Any) -> Body:
        if isinstance(context, Incoming):
            model_name = context.model_name
            headers = dict(context.headers)
        else:
            model_name = None
            headers = forwarded(context or ())
        url = self.url(node, purpose, model_name)
        endpoint = node.endpoint
        path = url[url.index("/", 7) :]
        method = "GET" if message is None else "POST"
        body = None
        if message is not None:
            body = message.data
            headers["Content-Type"] = message.content_type
            if message.content_encoding:
                headers["Content-Encoding"] = message.content_encoding
            if message.header_length is not None:
                headers[HEADER_LENGTH] = str(message.header_length)
        started = time.perf_counter()
        try:
            answer = await self._http.request(
                method,
                endpoint.service_host,
                endpoint.http_port,
                path,
                headers.items(),
                body,
                unix=endpoint.unix_socket,
            )
        except HttpError as exc:
            raise WalkError(f'{method.title()} "{url}": {exc}') from None
        if self.observe is not None:
            self.observe(
                model_name or node.name,
                path,
                method.lower(),
                str(answer.status),
                time.perf_counter() - started,
            )
        if answer.status != 200:
            if purpose == ROUTE:  # the router's own body is not passed on, as in the original
                raise WalkError(
                    f"Internal service call from executor failed calling {url} status code {answer.status}",
                    status=answer.status,
                )
            payload = Body(
                answer.body, answer.headers.get("content-type", ""), answer.headers.get("content-encoding")
            )
            raise WalkError(f"{url} answered {answer.status}", status=answer.status, payload=payload)
        split = answer.headers.get("inference-header-content-length")
        return Body(
            answer.body,
            answer.headers.get("content-type", "application/json"),
            answer.headers.get("content-encoding"),
            int(split) if split and split.isdigit() else None,
        )

    def close(self) -> None:
        self._http.close()


def forwarded(headers: Sequence[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
    """The client's headers as sent to a node: all but the ones a call sets itself."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        if name.lower() not in NOT_FORWARDED:
            out[name] = value
    return out
