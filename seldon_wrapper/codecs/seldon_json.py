"""SeldonMessage JSON (dicts) <-> (features, names, meta) and back, straight to numpy.

No protobuf on this path: the JSON is decoded once with orjson and arrays go directly
into numpy; responses are encoded with orjson, numpy arrays natively.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from seldon_wrapper.codecs import tftensor
from seldon_wrapper.codecs.feedback_json import decode_feedback as decode_feedback  # the Feedback part
from seldon_wrapper.codecs.feedback_json import encode_feedback as encode_feedback
from seldon_wrapper.codecs.message import DATA, NDARRAY, TENSOR, TFTENSOR, Decoded, ParsedArray
from seldon_wrapper.errors import SeldonMicroserviceException

_DUMP_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
)
# Kinds orjson writes natively; float32/16 are widened first so values print as the
# original's ``tolist()`` did (0.1 as float32 -> 0.10000000149011612).
_NATIVE_KINDS = ("b", "i", "u", "f")


# -- JSON bytes ------------------------------------------------------------------------


# orjson reads integers beyond 64 bits as floats. Such integers are runs of 19+ digits that do
# not follow a decimal point (fraction digits of small floats can be as long). Scanning costs
# about 10 ns a byte, so bodies above LONG_INTEGER_SCAN_LIMIT are not scanned (documented).
_DIGIT_RUN = re.compile(rb"(?<![0-9])[0-9]{19}")
LONG_INTEGER_SCAN_LIMIT = 64 * 1024


def _has_long_integer(raw: bytes) -> bool:
    if len(raw) > LONG_INTEGER_SCAN_LIMIT:
        return False
    for match in _DIGIT_RUN.finditer(raw):
        start = match.start()
        if start == 0 or raw[start - 1] != 0x2E:  # "."
            return True
    return False


#: Deepest JSON nesting read (orjson's limit; the stdlib, which reads NaN tokens and long
#: integers, stops at Python's recursion limit, about 1,000). Deeper is a client error (400).
MAX_JSON_DEPTH = 1024


def loads(data: bytes | str) -> Any:
    """Parse JSON as Python's json did (the original's parser), fast.

    The stdlib takes over for what orjson refuses or reads differently: NaN/Infinity tokens
    and integers beyond 64 bits (kept exact).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if _has_long_integer(raw):
            return json.loads(data)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if "recursion" in str(exc).lower():
                raise RecursionError from None
            return json.loads(data)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None


def _jsonable_array(array: np.ndarray) -> Any:
    if array.ndim == 0:
        return array.tolist()
    kind = array.dtype.kind
    if kind in _NATIVE_KINDS:
        if kind == "f" and array.dtype.itemsize < 8:
            return array.astype(np.float64)
        if not array.flags.c_contiguous:
            return np.ascontiguousarray(array)
        return array
    return array.tolist()


def _default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        converted = _jsonable_array(obj)
        return converted.tolist() if isinstance(converted, np.ndarray) else converted
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _stdlib_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _stdlib_dumps(obj: Any) -> bytes:
    text = json.dumps(obj, default=_stdlib_default, sort_keys=True, separators=(",", ":"))
    return text.encode("ascii") + b"\n"


def dumps(obj: Any) -> bytes:
    """Compact JSON with sorted keys and a trailing newline, like Flask's jsonify.

    orjson does the work; the stdlib re-encodes the rare answers orjson would write
    differently from the original: non-ASCII text (the original escaped it as ``\\uXXXX``),
    NaN/Infinity (orjson writes ``null``; a ``null`` in the output triggers the check) and
    integers beyond 64 bits (orjson refuses them).
    """
    try:
        try:
            out = orjson.dumps(obj, default=_default, option=_DUMP_OPTIONS)
        except TypeError:
            return _stdlib_dumps(obj)
        if not out.isascii() or _has_null(out):
            return _stdlib_dumps(obj)
        return out
    except (TypeError, ValueError, RecursionError) as exc:  # the model's answer, not the client's
        raise SeldonMicroserviceException(
            f"Model returned a value JSON cannot hold: {exc}", status_code=500
        ) from None


def _has_null(out: bytes) -> bool:
    """Whether ``null`` occurs, found through its ``u`` (memchr-fast; a plain substring search
    costs about 0.5 ms per MB, and numeric answers hold few ``u``)."""
    pos = out.find(b"u")
    seen = 0
    while pos != -1:
        if out[pos - 1 : pos + 3] == b"null":
            return True
        seen += 1
        if seen > 32:
            return b"null" in out
        pos = out.find(b"u", pos + 1)
    return False


# -- decoding ----------------------------------------------------------------------------


def _bad(message: str) -> SeldonMicroserviceException:
    return SeldonMicroserviceException(message)


def _array_from_data(data: dict) -> tuple[Any, str]:
    if "tensor" in data:
        tensor = data["tensor"]
        if not isinstance(tensor, dict):
            raise _bad("Invalid tensor: expected an object with 'shape' and 'values'")
        if "shape" not in tensor:
            raise _bad("Invalid tensor: 'shape' is required")
        try:
            values = np.array(tensor.get("values", []))
            if values.dtype.kind not in ("i", "u", "f", "b"):
                raise _bad("Invalid tensor: 'values' must be a flat list of numbers")
            return values.reshape(tensor["shape"]), TENSOR
        except (ValueError, TypeError) as exc:
            raise _bad(f"Invalid tensor: {exc}") from None
    if "ndarray" in data:
        ndarray = data["ndarray"]
        if type(ndarray) is ParsedArray:
            return ndarray.array, NDARRAY
        try:
            return np.array(ndarray), NDARRAY
        except (ValueError, TypeError) as exc:
            raise _bad(f"Invalid ndarray: {exc}") from None
    if "tftensor" in data:
        from google.protobuf import json_format

        from seldon_wrapper.proto.tensorflow.core.framework import tensor_pb2

        try:
            proto = json_format.ParseDict(data["tftensor"], tensor_pb2.TensorProto())
        except (json_format.ParseError, TypeError, ValueError, AttributeError) as exc:
            raise _bad(f"Invalid tftensor: {exc}") from None
        return tftensor.to_ndarray(proto), TFTENSOR
    return np.array([]), DATA


def decode_message(msg: Any) -> Decoded:
    """Decode one SeldonMessage dict. Payload priority: data > jsonData > strData > binData."""
    if not isinstance(msg, dict):
        raise _bad(f"Invalid request data type: {msg}")
    meta = msg.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise _bad(f"Invalid meta: expected an object, got {meta!r}")
    if "data" in msg:
        data = msg["data"]
        if not isinstance(data, dict):
            raise _bad(f"Invalid data: expected an object, got {data!r}")
        features, kind = _array_from_data(data)
        names = data.get("names", [])
        return Decoded(features, names, meta, kind)
    if "jsonData" in msg:
        return Decoded(msg["jsonData"], [], meta, None)
    if "strData" in msg:
        return Decoded(msg["strData"], [], meta, None)
    if "binData" in msg:
        value = msg["binData"]
        try:
            return Decoded(base64.b64decode(value), [], meta, None)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise _bad(f"Invalid binData: not base64 ({exc})") from None
    raise _bad(f"Invalid request data type: {msg}")


def message_list(request: Any) -> list:
    """The messages of an aggregate request: a JSON list, or ``{"seldonMessages": [...]}``."""
    if isinstance(request, list):
        messages = request
    elif isinstance(request, dict) and isinstance(request.get("seldonMessages"), list):
        messages = request["seldonMessages"]
    else:
        raise _bad(f"Invalid request data type: {request}")
    if not messages:
        raise _bad("Aggregate needs at least one SeldonMessage")
    return messages


# -- encoding ----------------------------------------------------------------------------


def _is_numeric(array: np.ndarray) -> bool:
    return np.issubdtype(array.dtype, np.number)


def encode_data(result: np.ndarray | list, data_kind: str | None, class_names: Callable[[int], list]) -> dict:
    """The ``data`` object for an array result, answering in the request's own kind."""
    array = result if isinstance(result, np.ndarray) else np.array(result)
    names = class_names(array.shape[1]) if array.ndim > 1 else []
    values = _jsonable_array(result) if isinstance(result, np.ndarray) else result
    numeric = _is_numeric(array)
    if numeric and (data_kind == TENSOR or data_kind is None):
        flat = array.ravel()
        return {
            "names": names,
            "tensor": {"shape": list(array.shape), "values": _jsonable_array(flat)},
        }
    if numeric and data_kind == TFTENSOR:
        from google.protobuf import json_format

        return {"names": names, "tftensor": json_format.MessageToDict(tftensor.from_ndarray(array))}
    return {"names": names, NDARRAY: values}


def encode_response(
    result: Any, data_kind: str | None, meta: dict, class_names: Callable[[int], list]
) -> dict:
    """A SeldonMessage dict for a user result: jsonData, binData, strData or data."""
    if isinstance(result, dict):
        return {"jsonData": result, "meta": meta}
    if isinstance(result, (bytes, bytearray)):
        return {"binData": base64.b64encode(result).decode("ascii"), "meta": meta}
    if isinstance(result, str):
        return {"strData": result, "meta": meta}
    if isinstance(result, (np.ndarray, list)):
        try:
            return {"data": encode_data(result, data_kind, class_names), "meta": meta}
        except ValueError as exc:
            raise SeldonMicroserviceException(
                f"Model returned an array numpy cannot represent: {exc}", status_code=500
            ) from None
    raise SeldonMicroserviceException(
        f"Unknown data type returned as payload (must be list or np array):{result}"
    )


# -- raw responses -----------------------------------------------------------------------


def raw_metrics(response: Any, keep: bool) -> list:
    """Custom metrics in a raw dict response's meta; removed from it unless ``keep``."""
    if not isinstance(response, dict):
        return []
    meta = response.get("meta")
    if not isinstance(meta, dict) or "metrics" not in meta:
        return []
    metrics = meta["metrics"]
    if not keep:
        del meta["metrics"]
    return metrics if isinstance(metrics, list) else []


LEGACY = "rest"
