"""The seldon protocol's gRPC messages, as the walk sees them (spec 2.3, 2.5, 3.8, 4.3).

Messages are ``SeldonMessage`` protobufs, passed from hop to hop as they are. As over REST, only
a router's answer is read (for its route) and a feedback's ``response.meta.routing`` (to route
the feedback); with routing injection on, each result gets ``meta.routing`` set, on a copy, since
the same message object may be in several hands at once (siblings of a fan-out share their input).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from seldon_wrapper.executor.walk import ALL_CHILDREN, WalkError
from seldon_wrapper.proto import prediction_pb2


class SeldonProtoPayloads:
    """``Payloads`` for the seldon protocol over gRPC."""

    def chain(self, message: prediction_pb2.SeldonMessage) -> prediction_pb2.SeldonMessage:
        return message

    def aggregate_request(
        self, messages: list[prediction_pb2.SeldonMessage]
    ) -> prediction_pb2.SeldonMessageList:
        """The children's answers in child order, as ``Combiner/Aggregate`` takes them."""
        return prediction_pb2.SeldonMessageList(seldonMessages=messages)

    def routes(self, answer: prediction_pb2.SeldonMessage) -> list[int]:
        """Routes from ``data``: ndarray (each row's first element), tensor values, tftensor
        int_val; an answer without ``data`` (strData, jsonData, nothing) routes to all children."""
        if answer.WhichOneof("data_oneof") != "data":
            return [ALL_CHILDREN]
        data = answer.data
        kind = data.WhichOneof("data_oneof")
        if kind == "ndarray":
            return [_row_route(row) for row in data.ndarray.values]
        if kind == "tensor":
            return [_int(value, "tensor value") for value in data.tensor.values]
        if kind == "tftensor":
            return [int(value) for value in data.tftensor.int_val]
        return [ALL_CHILDREN]

    def feedback_route(self, feedback: prediction_pb2.Feedback, node_name: str) -> int:
        routing = feedback.response.meta.routing
        return routing[node_name] if node_name in routing else ALL_CHILDREN

    def inject_routing(
        self, message: prediction_pb2.SeldonMessage, routing: Mapping[str, int]
    ) -> prediction_pb2.SeldonMessage:
        """A copy of ``message`` whose ``meta.routing`` is the walk's map (``meta`` created if
        the message had none; the original crashed there)."""
        if not isinstance(message, prediction_pb2.SeldonMessage):
            return message
        out = prediction_pb2.SeldonMessage()
        out.CopyFrom(message)
        out.meta.routing.clear()
        out.meta.routing.update(routing)
        return out


def _row_route(row: Any) -> int:
    """One ndarray element: a number, or a list whose first element is one."""
    kind = row.WhichOneof("kind")
    if kind == "list_value":
        if not row.list_value.values:
            raise WalkError("router answer's data.ndarray has an empty row")
        first = row.list_value.values[0]
        if first.WhichOneof("kind") != "number_value":
            raise WalkError(f"router answer's route {_text(first)} is not a number")
        return _int(first.number_value, "route")
    if kind == "number_value":
        return _int(row.number_value, "route")
    raise WalkError(f"router answer's route {_text(row)} is not a number")


def _int(value: float, what: str) -> int:
    if not math.isfinite(value):
        raise WalkError(f"router answer's {what} {value} is not a finite number")
    return int(value)  # truncates toward zero, as Go's conversion


def _text(value: Any) -> str:
    kind = value.WhichOneof("kind")
    return repr(getattr(value, kind)) if kind else "(empty)"
