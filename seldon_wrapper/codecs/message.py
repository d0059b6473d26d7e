"""The protocol-neutral view of one decoded SeldonMessage, and the interface every v1 codec
(``seldon_json`` for REST, ``seldon_proto`` for gRPC) offers the dataplane."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

# Which payload the request carried; it decides how an array result is encoded.
TENSOR = "tensor"
NDARRAY = "ndarray"
TFTENSOR = "tftensor"
DATA = "data"  # a ``data`` object with none of the three inside


@dataclass
class Decoded:
    """What the user method receives, plus what the encoder needs to answer in kind."""

    features: Any
    names: Any
    meta: dict | None
    data_kind: str | None  # TENSOR, NDARRAY, TFTENSOR, DATA, or None when there was no ``data``

    @property
    def puid(self) -> Any:
        return self.meta.get("puid") if self.meta else None


@dataclass
class FeedbackRequest:
    """One checked ``Feedback``: what ``send_feedback`` receives, the request's kind and puid for
    the answer, and ``message()``: the ``Feedback`` protobuf the raw and legacy hooks take. The
    arrays are built on call, after those hooks, which may accept what numpy cannot shape."""

    features: Callable[[], Any]
    names: list
    data_kind: str | None
    puid: str
    reward: float
    truth: Callable[[], Any]
    routing: dict
    message: Callable[[], Any]


class ParsedArray:
    """An ndarray decoded while parsing (speedups/ndarrays.py), standing where the list would be."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array


class MessageCodec(Protocol):
    """What the dataplane needs from a v1 wire format; the codec modules implement it."""

    #: The deprecated ``<method>_rest`` or ``<method>_grpc``: which one is this transport's own.
    LEGACY: str

    def decode_message(self, msg: Any) -> Decoded: ...

    def message_list(self, request: Any) -> list: ...

    def encode_response(
        self, result: Any, data_kind: str | None, meta: dict, class_names: Callable[[int], list]
    ) -> Any: ...

    def raw_metrics(self, response: Any, keep: bool) -> list: ...

    def decode_feedback(self, request: Any) -> FeedbackRequest: ...

    def encode_feedback(
        self, result: Any, data_kind: str | None, meta: dict, class_names: Callable[[int], list]
    ) -> Any:
        """The answer to feedback; ``result`` may be the ``SeldonMessage`` a hook returned."""
