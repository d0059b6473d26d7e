"""The example `predict_raw`: gets the request message itself and says what it received.

`predict_raw(msg)` is called instead of `predict` with the request as it arrived: over REST the
parsed JSON (a `dict` of plain lists, numbers and strings: no numpy, no base64 decoding), over
gRPC the `SeldonMessage` protobuf. Its answer is sent as it is: the wrapper adds no `names`,
`meta`, `puid` or tags, so the method answers in the transport's form (a `dict` for REST, a
`SeldonMessage` for gRPC).

This one answers `jsonData` describing the payload: which kind it is (`ndarray`, `tensor`,
`strData`, `binData` or `jsonData`, looked for in the wrapper's order: `data` first), the Python
type it arrived as, and a few facts about it. A message with none of these payloads is answered
with a FAILURE `status` whose `code` is 400, which the predict routes use as the HTTP status.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from google.protobuf import json_format

from seldon_wrapper.proto import prediction_pb2

PAYLOADS = ("data", "jsonData", "strData", "binData")


class PayloadInspector:
    def predict_raw(self, msg: Any) -> Any:
        """A description of the payload, in the transport's own form."""
        if isinstance(msg, prediction_pb2.SeldonMessage):
            return json_format.ParseDict(self.describe_proto(msg), prediction_pb2.SeldonMessage())
        return self.describe_json(msg)

    def describe_json(self, msg: dict) -> dict:
        """REST: `msg` is the JSON body, parsed."""
        kind = next((key for key in PAYLOADS if key in msg), None)
        if kind == "data":
            data = msg["data"]
            names = data.get("names", [])
            if "ndarray" in data:
                rows = data["ndarray"]
                return _answer("ndarray", rows, shape=list(np.shape(rows)), names=names)
            if "tensor" in data:
                tensor = data["tensor"]
                return _answer(
                    "tensor", tensor, shape=tensor["shape"], values=len(tensor["values"]), names=names
                )
        if kind == "strData":
            return _answer("strData", msg["strData"], length=len(msg["strData"]))
        if kind == "binData":
            return _answer("binData", msg["binData"], decoded_bytes=len(base64.b64decode(msg["binData"])))
        if kind == "jsonData":
            value = msg["jsonData"]
            keys = sorted(value) if isinstance(value, dict) else None
            return _answer("jsonData", value, keys=keys)
        return {
            "status": {
                "code": 400,
                "info": "PayloadInspector needs data.ndarray, data.tensor, strData, binData or jsonData",
                "reason": "MICROSERVICE_BAD_DATA",
                "status": "FAILURE",
            }
        }

    def describe_proto(self, msg: prediction_pb2.SeldonMessage) -> dict:
        """gRPC: `msg` is the protobuf; numbers are doubles, `binData` is bytes."""
        kind = msg.WhichOneof("data_oneof")
        if kind == "data":
            inner = msg.data.WhichOneof("data_oneof")
            names = list(msg.data.names)
            if inner == "ndarray":
                rows = json_format.MessageToDict(msg.data.ndarray)
                return _answer("ndarray", msg.data.ndarray, shape=list(np.shape(rows)), names=names)
            if inner == "tensor":
                tensor = msg.data.tensor
                return _answer(
                    "tensor", tensor, shape=list(tensor.shape), values=len(tensor.values), names=names
                )
        if kind == "strData":
            return _answer("strData", msg.strData, length=len(msg.strData))
        if kind == "binData":
            return _answer("binData", msg.binData, decoded_bytes=len(msg.binData))
        if kind == "jsonData":
            value = json_format.MessageToDict(msg.jsonData)
            keys = sorted(value) if isinstance(value, dict) else None
            return _answer("jsonData", msg.jsonData, keys=keys)
        return {
            "status": {"code": 400, "info": "PayloadInspector got no payload it knows", "status": "FAILURE"}
        }


def _answer(kind: str, value: Any, **facts: Any) -> dict:
    """`jsonData` naming the payload's kind and Python type, with the facts that are not None."""
    described = {"kind": kind, "python_type": type(value).__name__}
    described.update({key: fact for key, fact in facts.items() if fact is not None})
    return {"jsonData": described}
