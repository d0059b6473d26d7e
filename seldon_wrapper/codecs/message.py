"""The protocol-neutral view of one decoded SeldonMessage, shared by the JSON and proto codecs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
