"""Calls to graph nodes over REST, on pooled keep-alive connections (spec 3.6, 5.1-5.3).

One urllib3 pool per node address, shared by every request of the executor, so a walk opens no
connection once the pool is warm. A node's non-200 answer keeps its status and body (the client
gets them); a failed call (refused, reset, timed out) is a 500 whose text says which call failed,
in the original's words where they help (``Post "http://h:p/predict": ...``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import urllib3

from seldon_wrapper.executor.graph import Node
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
#: Connections kept per node address (more may open under load; these are reused).
POOL_SIZE = 16

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
        timeout = urllib3.Timeout(total=timeout_s) if timeout_s else urllib3.Timeout(connect=None, read=None)
        self._http = urllib3.PoolManager(
            num_pools=64, maxsize=pool_size, block=False, retries=False, timeout=timeout
        )

    def url(self, node: Node, purpose: str, model_name: str | None = None) -> str:
        endpoint = node.endpoint
        if endpoint is None:
            raise WalkError(f"node {node.name!r} has no endpoint")
        path = self.paths.get(purpose)
        if path is None:
            raise WalkError(f"node {node.name!r} cannot be called for {purpose} over this protocol")
        path = path.format(name=model_name or node.name)
        return f"http://{endpoint.service_host}:{endpoint.http_port}{path}"

    def __call__(self, node: Node, purpose: str, message: Body | None, context: Any) -> Body:
        if isinstance(context, Incoming):
            model_name = context.model_name
            headers = dict(context.headers)
        else:
            model_name = None
            headers = forwarded(context or ())
        url = self.url(node, purpose, model_name)
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
            answer = self._http.request(method, url, body=body, headers=headers, preload_content=True)
        except urllib3.exceptions.HTTPError as exc:
            raise WalkError(f'{method.title()} "{url}": {_reason(exc)}') from None
        if self.observe is not None:
            path = url[url.index("/", 7) :]
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
                answer.data, answer.headers.get("Content-Type", ""), answer.headers.get("Content-Encoding")
            )
            raise WalkError(f"{url} answered {answer.status}", status=answer.status, payload=payload)
        split = answer.headers.get(HEADER_LENGTH)
        return Body(
            answer.data,
            answer.headers.get("Content-Type", "application/json"),
            answer.headers.get("Content-Encoding"),
            int(split) if split and split.isdigit() else None,
        )

    def close(self) -> None:
        self._http.clear()


def forwarded(headers: Sequence[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
    """The client's headers as sent to a node: all but the ones a call sets itself."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        if name.lower() not in NOT_FORWARDED:
            out[name] = value
    return out


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    if "refused" in text.lower():  # urllib3 files a refused connection under timeouts too
        return f"connect: connection refused ({text})"
    if isinstance(exc, urllib3.exceptions.TimeoutError) or "timed out" in text.lower():
        return f"timeout: {text} (Client.Timeout exceeded while awaiting headers)"
    return text
