"""SeldonMessage and Feedback protobuf <-> (features, names, meta) and back.

Used by the gRPC front door, by REST feedback for payloads off its plain path, and for the
raw and legacy feedback hooks, which take and give protobuf on both transports.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from google.protobuf import any_pb2, json_format, struct_pb2

from seldon_wrapper.codecs import tftensor
from seldon_wrapper.codecs.message import DATA, NDARRAY, TENSOR, TFTENSOR, Decoded, FeedbackRequest
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.proto import prediction_pb2

_KINDS = {"tensor": TENSOR, "ndarray": NDARRAY, "tftensor": TFTENSOR}

SeldonMessage = prediction_pb2.SeldonMessage
Feedback = prediction_pb2.Feedback


def message_to_dict(message: Any) -> dict:
    return json_format.MessageToDict(message)


def parse_json(obj: Any, message: Any) -> Any:
    """Strict proto3 JSON parsing; errors become 400 ``Invalid JSON: ...`` as in the original."""
    try:
        return json_format.ParseDict(obj, message)
    except json_format.ParseError as exc:
        raise SeldonMicroserviceException(f"Invalid JSON: {exc}") from None
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise SeldonMicroserviceException(f"Invalid JSON: {exc}") from None


def json_to_seldon_message(obj: Any) -> Any:
    """A SeldonMessage from a dict, a JSON string, or a message (returned as is)."""
    if isinstance(obj, SeldonMessage):
        return obj
    if isinstance(obj, (str, bytes)):
        from seldon_wrapper.codecs.seldon_json import loads

        obj = loads(obj)
    if obj is None:
        obj = {}
    return parse_json(obj, SeldonMessage())


def _tensor_values(tensor: Any) -> np.ndarray:
    """The packed doubles of a Tensor, read straight from its wire form: ``values`` (field 2)
    is serialised last, so its bytes are the tail of the serialised message."""
    count = len(tensor.values)
    if count < 64:
        return np.array(tensor.values, dtype=np.float64)
    raw = tensor.SerializeToString()
    return np.frombuffer(raw, dtype="<f8", count=count, offset=len(raw) - 8 * count).copy()


def datadef_to_array(data: Any) -> np.ndarray:
    """``DefaultData`` -> numpy: tensor as float64 (from the packed doubles), ndarray via JSON."""
    which = data.WhichOneof("data_oneof")
    if which == "tensor":
        values = _tensor_values(data.tensor)
        try:
            return values.reshape(tuple(data.tensor.shape))
        except ValueError as exc:
            raise SeldonMicroserviceException(f"Invalid tensor: {exc}") from None
    if which == "ndarray":
        values = _as_dict(data.ndarray, "ndarray")
        try:
            return np.array(values)
        except ValueError as exc:
            raise SeldonMicroserviceException(f"Invalid ndarray: {exc}") from None
    if which == "tftensor":
        return tftensor.to_ndarray(data.tftensor)
    return np.array([])


def _as_dict(message: Any, field: str) -> Any:
    """A Struct/ListValue/message as JSON values; NaN or Infinity in a Value is a client error."""
    try:
        return json_format.MessageToDict(message)
    except (json_format.Error, ValueError) as exc:
        raise SeldonMicroserviceException(f"Invalid {field}: {exc}") from None


def decode_message(msg: Any) -> Decoded:
    """Decode one SeldonMessage proto; a message with no payload is a client error."""
    if not isinstance(msg, SeldonMessage):
        raise SeldonMicroserviceException(f"Invalid request data type: {msg!r}")
    meta = _as_dict(msg.meta, "meta") if msg.HasField("meta") else {}
    which = msg.WhichOneof("data_oneof")
    if which == "data":
        inner = msg.data.WhichOneof("data_oneof")
        kind = _KINDS.get(inner, DATA)
        return Decoded(datadef_to_array(msg.data), msg.data.names, meta, kind)
    if which == "binData":
        return Decoded(msg.binData, [], meta, None)
    if which == "strData":
        return Decoded(msg.strData, [], meta, None)
    if which == "jsonData":
        return Decoded(_as_dict(msg.jsonData, "jsonData"), [], meta, None)
    if which == "customData":
        return Decoded(msg.customData, [], meta, None)
    raise SeldonMicroserviceException("Unknown data in SeldonMessage")


def _list_value(values: list) -> struct_pb2.ListValue:
    out = struct_pb2.ListValue()
    out.extend(values)
    return out


def encode_response(
    result: Any, data_kind: str | None, meta: dict, class_names: Callable[[int], list]
) -> Any:
    """A SeldonMessage for a user result; ``meta`` is the merged meta dict."""
    meta_proto = parse_json(meta, prediction_pb2.Meta()) if meta else prediction_pb2.Meta()
    if isinstance(result, (np.ndarray, list)):
        try:
            array = np.array(result)
        except ValueError as exc:
            raise SeldonMicroserviceException(
                f"Model returned an array numpy cannot represent: {exc}", status_code=500
            ) from None
        names = class_names(array.shape[1]) if array.ndim > 1 else []
        numeric = np.issubdtype(array.dtype, np.number)
        if data_kind is None:
            kind = TENSOR if numeric else NDARRAY
        elif numeric:
            kind = NDARRAY if data_kind == DATA else data_kind
        else:
            kind = NDARRAY
        data = prediction_pb2.DefaultData(names=names)
        if kind == TENSOR:
            data.tensor.shape.extend(array.shape)
            data.tensor.values.extend(array.ravel().tolist())
        elif kind == TFTENSOR:
            data.tftensor.CopyFrom(tftensor.from_ndarray(array))
        else:
            try:
                data.ndarray.CopyFrom(_list_value(array.tolist() if array.ndim else [array.tolist()]))
            except (TypeError, ValueError) as exc:  # bytes or objects: the model's answer
                raise SeldonMicroserviceException(
                    f"Model returned values an ndarray cannot hold: {exc}", status_code=500
                ) from None
        return SeldonMessage(data=data, meta=meta_proto)
    if isinstance(result, str):
        return SeldonMessage(strData=result, meta=meta_proto)
    if isinstance(result, dict):
        value = struct_pb2.Value()
        parse_json(result, value)
        return SeldonMessage(jsonData=value, meta=meta_proto)
    if isinstance(result, (bytes, bytearray)):
        return SeldonMessage(binData=bytes(result), meta=meta_proto)
    if isinstance(result, any_pb2.Any):
        return SeldonMessage(customData=result, meta=meta_proto)
    raise SeldonMicroserviceException(
        f"Unknown data type returned as payload (must be list or np array):{result}"
    )


def raw_metrics(response: Any, keep: bool) -> list:
    """Custom metrics in a raw proto response's meta; cleared from it unless ``keep``."""
    if not isinstance(response, SeldonMessage) or not response.meta.metrics:
        return []
    metrics = json_format.MessageToDict(response.meta).get("metrics", [])
    for metric in metrics:
        metric.setdefault("type", "COUNTER")
    if not keep:
        del response.meta.metrics[:]
    return metrics


LEGACY = "grpc"


def message_list(request: Any) -> list:
    """The messages of a ``SeldonMessageList``."""
    messages = list(getattr(request, "seldonMessages", []))
    if not messages:
        raise SeldonMicroserviceException("Aggregate needs at least one SeldonMessage")
    return messages


def feedback_to_json(feedback: Any) -> str:
    return json_format.MessageToJson(feedback)


def decode_feedback(feedback: Any) -> FeedbackRequest:
    """A ``Feedback`` message, decoded as the original did: tensor and ndarray numbers doubles."""
    if not isinstance(feedback, Feedback):
        raise SeldonMicroserviceException(f"Invalid request data type: {feedback!r}")
    request = feedback.request
    kind = _KINDS.get(request.data.WhichOneof("data_oneof"), DATA) if request.HasField("data") else None
    features, truth = partial(datadef_to_array, request.data), partial(datadef_to_array, feedback.truth.data)
    names, routing = list(request.data.names), dict(feedback.response.meta.routing)
    return FeedbackRequest(
        features, names, kind, request.meta.puid, feedback.reward, truth, routing, lambda: feedback
    )


def encode_feedback(
    result: Any, data_kind: str | None, meta: dict, class_names: Callable[[int], list]
) -> Any:
    if isinstance(result, SeldonMessage):
        return result
    return encode_response(result, data_kind, meta, class_names)
