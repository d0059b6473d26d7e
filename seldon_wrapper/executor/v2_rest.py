"""The V2 protocol's REST messages, as the walk sees them (spec 3.5): each hop's ``outputs``
become the next hop's ``inputs``; everything else passes as the seldon protocol's bodies do.
"""

from __future__ import annotations

import gzip
import json
import zlib

from seldon_wrapper.executor.seldon_rest import Body, SeldonRestPayloads
from seldon_wrapper.executor.walk import WalkError

CHAIN_ERROR = "Failed to convert kfserving response so it could be chained to new input"


class V2RestPayloads(SeldonRestPayloads):
    """``Payloads`` for V2 over REST."""

    def chain(self, message: Body) -> Body:
        """A request passes unchanged; an answer's ``outputs`` are renamed ``inputs`` (its other
        fields kept, binary tensors after the JSON part kept too); anything else cannot be the
        next hop's request."""
        data = message.data
        encoded = (message.content_encoding or "").lower() == "gzip"
        if encoded:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error):
                raise WalkError(f"{CHAIN_ERROR}: the gzip body cannot be read") from None
        split = message.header_length
        if split is not None and not 0 <= split <= len(data):
            raise WalkError(f"{CHAIN_ERROR}: Inference-Header-Content-Length is past the body")
        header, tail = (data[:split], data[split:]) if split is not None else (data, b"")
        try:
            value = json.loads(header)
        except ValueError:
            raise WalkError(f"{CHAIN_ERROR}: the body is not JSON") from None
        if not isinstance(value, dict):
            raise WalkError(f"{CHAIN_ERROR}: the body is not a JSON object")
        if "inputs" in value:
            return Body(data, message.content_type, None, split) if encoded else message
        if "outputs" not in value:
            raise WalkError(f"{CHAIN_ERROR}: it has neither inputs nor outputs")
        chained = {("inputs" if key == "outputs" else key): item for key, item in value.items()}
        header = json.dumps(chained, separators=(",", ":"), ensure_ascii=False).encode()
        content_type = message.content_type or "application/json"
        return Body(header + tail, content_type, None, len(header) if split is not None else None)
