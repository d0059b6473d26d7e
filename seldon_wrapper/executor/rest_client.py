"""Calls to graph nodes over REST, on pooled keep-alive connections (spec 3.6, 5.1-5.3).

One urllib3 pool per node address, shared by every request of the executor, so a walk opens no
connection once the pool is warm. A node's non-200 answer keeps its status and body (the client
gets them); a failed call (refused, reset, timed out) is a 500 whose text says which call failed,
in the original's words where they help (``Post "http://h:p/predict": ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import urllib3

from seldon_wrapper.executor.graph import Node
from seldon_wrapper.executor.seldon_rest import Body
from seldon_wrapper.executor.walk import ROUTE, WalkError

#: Request headers never copied to a node: the call sets its own.
NOT_FORWARDED = frozenset({"host", "content-type", "content-length", "transfer-encoding", "connection"})
#: Connections kept per node address (more may open under load; these are reused).
POOL_SIZE = 16

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


class RestNodeClient:
    """``NodeClient`` for the seldon protocol over REST. ``context`` is the client's headers:
    a list of (name, value) pairs, forwarded to every node (``Seldon-Puid`` among them)."""

    def __init__(self, timeout_s: float | None = None, pool_size: int = POOL_SIZE) -> None:
        timeout = urllib3.Timeout(total=timeout_s) if timeout_s else urllib3.Timeout(connect=None, read=None)
        self._http = urllib3.PoolManager(
            num_pools=64, maxsize=pool_size, block=False, retries=False, timeout=timeout
        )

    def url(self, node: Node, purpose: str) -> str:
        endpoint = node.endpoint
        if endpoint is None:
            raise WalkError(f"node {node.name!r} has no endpoint")
        return f"http://{endpoint.service_host}:{endpoint.http_port}{PATHS[purpose]}"

    def __call__(self, node: Node, purpose: str, message: Body | None, context: Any) -> Body:
        url = self.url(node, purpose)
        headers = forwarded(context or ())
        method = "GET" if message is None else "POST"
        body = None
        if message is not None:
            body = message.data
            headers["Content-Type"] = message.content_type
            if message.content_encoding:
                headers["Content-Encoding"] = message.content_encoding
        try:
            answer = self._http.request(method, url, body=body, headers=headers, preload_content=True)
        except urllib3.exceptions.HTTPError as exc:
            raise WalkError(f'{method.title()} "{url}": {_reason(exc)}') from None
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
        return Body(
            answer.data,
            answer.headers.get("Content-Type", "application/json"),
            answer.headers.get("Content-Encoding"),
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
