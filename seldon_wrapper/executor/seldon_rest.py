"""The seldon protocol's REST messages, as the walk sees them (spec 2.3, 2.5, 3.5-3.7, 4.3).

A message is the bytes a node answered with, its content type and encoding: bodies pass from
hop to hop unparsed. Only a router's answer is read (for its route), a feedback's
``response.meta.routing`` (to route the feedback), and, with routing injection on, each result
is rewritten with ``meta.routing``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seldon_wrapper.executor.walk import ALL_CHILDREN, WalkError

#: Top-level fields of a SeldonMessage; a router answer with others is not one (strict parse).
SELDON_MESSAGE_FIELDS = frozenset({"status", "meta", "data", "binData", "strData", "jsonData"})


@dataclass(frozen=True)
class Body:
    data: bytes
    content_type: str = "application/json"
    content_encoding: str | None = None
    #: V2's binary extension: the JSON part is the first this-many bytes, tensors follow.
    header_length: int | None = None


class SeldonRestPayloads:
    """``Payloads`` for the seldon protocol over REST."""

    def chain(self, message: Body) -> Body:
        return message

    def aggregate_request(self, messages: list[Body]) -> Body:
        """``[child0,child1,...]`` joined as text, as the original did; each must be JSON."""
        for message in messages:
            if message.content_encoding:
                raise WalkError("Data is not JSON (an encoded child answer cannot be aggregated)")
            try:
                json.loads(message.data)
            except ValueError:
                raise WalkError("Data is not JSON") from None
        data = b"[" + b",".join(message.data for message in messages) + b"]"
        return Body(data, messages[0].content_type)

    def routes(self, answer: Body) -> list[int]:
        try:
            value = json.loads(answer.data)
        except ValueError as exc:
            raise WalkError(f"router answer is not JSON: {exc}") from None
        if isinstance(value, dict) and set(value) <= SELDON_MESSAGE_FIELDS:
            return _message_routes(value)
        if isinstance(value, list) and all(_is_number(item) for item in value):
            return [_int(item) for item in value]
        raise WalkError(
            f"router answer is neither a SeldonMessage nor a list of routes: {_clip(answer.data)}"
        )

    def feedback_route(self, feedback: Body, node_name: str) -> int:
        try:
            value = json.loads(feedback.data)
            route = value["response"]["meta"]["routing"][node_name]
        except (ValueError, KeyError, TypeError):
            return ALL_CHILDREN
        return _int(route) if _is_number(route) else ALL_CHILDREN

    def inject_routing(self, message: Body, routing: Mapping[str, int]) -> Body:
        """``meta.routing`` replaced by the walk's map; a JSON body is re-serialised (keys sorted,
        compact), a body that is not JSON is left alone."""
        if message.content_encoding:
            return message
        try:
            value = json.loads(message.data)
        except ValueError:
            return message
        if isinstance(value, dict) and isinstance(value.get("meta"), dict):
            value["meta"]["routing"] = dict(routing)
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        return Body(html_escape(data), message.content_type, None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any) -> int:
    return int(value)  # truncates toward zero, as Go's conversion


def _message_routes(message: Mapping[str, Any]) -> list[int]:
    """Routes from ``data``: ndarray (each row's first element), tensor values, tftensor
    int_val; a message without data routes to all children."""
    data = message.get("data")
    if not isinstance(data, dict):
        return [ALL_CHILDREN]
    if "ndarray" in data:
        rows = data["ndarray"]
        if not isinstance(rows, list):
            raise WalkError("router answer's data.ndarray is not a list")
        routes = []
        for row in rows:
            first = row[0] if isinstance(row, list) and row else row
            if not _is_number(first):
                raise WalkError(f"router answer's route {first!r} is not a number")
            routes.append(_int(first))
        return routes
    if "tensor" in data:
        values = (data["tensor"] or {}).get("values") or []
        if not all(_is_number(value) for value in values):
            raise WalkError("router answer's tensor values are not numbers")
        return [_int(value) for value in values]
    if "tftensor" in data:
        values = (data["tftensor"] or {}).get("int_val") or (data["tftensor"] or {}).get("intVal") or []
        return [_int(value) for value in values if _is_number(value)]
    return [ALL_CHILDREN]


_ESCAPES = {b"<": b"\\u003c", b">": b"\\u003e", b"&": b"\\u0026"}


def html_escape(data: bytes) -> bytes:
    """The original's answer escaping: ``<``, ``>``, ``&``, U+2028 and U+2029 as ``\\uXXXX``."""
    if not any(char in data for char in (b"<", b">", b"&", b"\xe2\x80\xa8", b"\xe2\x80\xa9")):
        return data
    for raw, escaped in _ESCAPES.items():
        data = data.replace(raw, escaped)
    return data.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


def _clip(data: bytes, limit: int = 120) -> str:
    text = data[:limit].decode("utf-8", "replace")
    return text + ("..." if len(data) > limit else "")
