"""REST feedback: the ``Feedback`` JSON read straight into numpy, as the original's protobuf
parse and decode would have read it (every number a double, unknown fields refused).

The plain path takes what clients send: messages of ``meta`` and ``data`` (``names`` with a
``tensor`` or an ``ndarray``) holding finite numbers. Anything else (``tftensor``, ``strData``,
numeric strings, snake_case names, nulls, unknown fields) is read by protobuf itself, so its
answers and its errors stay exactly protobuf's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from google.protobuf import json_format

from seldon_wrapper.codecs import seldon_proto
from seldon_wrapper.codecs.message import DATA, NDARRAY, TENSOR, FeedbackRequest
from seldon_wrapper.errors import SeldonMicroserviceException

_FLOAT32_MAX = float(np.finfo(np.float32).max)


class _Unusual(Exception):
    """Outside the plain path: protobuf reads this payload."""


def _check(ok: bool) -> None:
    if not ok:
        raise _Unusual


def _number(value: Any, limit: float = math.inf) -> float:
    _check(type(value) in (int, float))  # not bool
    try:
        out = float(value)
    except OverflowError:
        raise _Unusual from None
    _check(math.isfinite(out) and abs(out) <= limit)
    return out


def _doubles(value: Any) -> Any:
    """A Struct or ListValue as protobuf holds it: every number a double."""
    if type(value) is list:
        return [_doubles(item) for item in value]
    if type(value) is dict:
        return {key: _doubles(item) for key, item in value.items()}
    return value if value is None or type(value) in (str, bool) else _number(value)


def _fields(obj: Any, allowed: set[str]) -> dict:
    _check(type(obj) is dict and obj.keys() <= allowed)
    return obj


def _all(values: Any, kind: type, check: Callable[[Any], bool] = lambda _: True) -> None:
    _check(type(values) is kind)
    _check(all(check(item) for item in (values.values() if kind is dict else values)))


def _int32(value: Any) -> bool:
    return type(value) is int and -(2**31) <= value < 2**31


def _string(value: Any) -> bool:
    return type(value) is str


def _value(value: Any) -> bool:
    _doubles(value)
    return True


def _metric(metric: Any) -> bool:
    _fields(metric, {"key", "type", "value", "tags"})
    _number(metric.get("value", 0), _FLOAT32_MAX)
    _all(metric.get("tags", {}), dict, _string)
    return _string(metric.get("key", "")) and metric.get("type", "COUNTER") in ("COUNTER", "GAUGE", "TIMER")


def _meta(meta: Any) -> str:
    """Checks the whole meta as protobuf would; answers its puid."""
    _fields(meta, {"puid", "tags", "routing", "requestPath", "metrics"})
    _all(meta.get("tags", {}), dict, _value)
    _all(meta.get("routing", {}), dict, _int32)
    _all(meta.get("requestPath", {}), dict, _string)
    _all(meta.get("metrics", []), list, _metric)
    _check(_string(meta.get("puid", "")))
    return meta.get("puid", "")


def _built(build: Callable[[], np.ndarray], kind: str) -> np.ndarray:
    try:
        return build()
    except ValueError as exc:
        raise SeldonMicroserviceException(f"Invalid {kind}: {exc}") from None


def _message(msg: Any) -> tuple[Callable[[], np.ndarray], str | None, list, str]:
    """Checks one SeldonMessage: how to build its array, its kind, its names and its puid."""
    puid = _meta(_fields(msg, {"meta", "data"}).get("meta", {}))
    if "data" not in msg:
        return partial(np.array, []), None, [], puid
    data = _fields(msg["data"], {"names", "tensor", "ndarray"})
    _check(not ("tensor" in data and "ndarray" in data))
    names = data.get("names", [])
    _all(names, list, _string)
    if "tensor" in data:
        tensor = _fields(data["tensor"], {"shape", "values"})
        shape, values = tensor.get("shape", []), tensor.get("values", [])
        _all(shape, list, _int32)
        _all(values, list)
        flat = np.array([_number(value) for value in values], dtype=np.float64)
        return partial(_built, partial(flat.reshape, tuple(shape)), TENSOR), TENSOR, names, puid
    if "ndarray" in data:
        _all(data["ndarray"], list)
        return partial(_built, partial(np.array, _doubles(data["ndarray"])), NDARRAY), NDARRAY, names, puid
    return partial(np.array, []), DATA, names, puid


def _not_an_object(obj: Any) -> FeedbackRequest:
    """A body that is not a JSON object goes through protobuf's parse, as in the original, so the
    answer carries the original's message (a number, which made the original answer 500, is a 400
    here). What protobuf accepts (``[]``, ``""``) is an empty Feedback, as it was."""
    try:
        message = json_format.ParseDict(obj, seldon_proto.Feedback())
    except json_format.ParseError as exc:
        raise SeldonMicroserviceException(f"Invalid JSON: {exc}") from None
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise SeldonMicroserviceException(str(exc)) from None
    return seldon_proto.decode_feedback(message)


def decode_feedback(obj: Any) -> FeedbackRequest:
    """The whole payload is checked before any array is built, as protobuf parses before the
    original decoded, so a payload with two faults reports the same one."""
    if not isinstance(obj, dict):
        return _not_an_object(obj)
    try:
        _fields(obj, {"request", "response", "reward", "truth"})
        features, kind, names, puid = _message(obj.get("request", {}))
        _message(obj.get("response", {}))
        truth = _message(obj.get("truth", {}))[0]
        reward = float(np.float32(_number(obj.get("reward", 0), _FLOAT32_MAX)))
    except (_Unusual, RecursionError):  # deep nesting too: protobuf's parse refuses it as a 400
        return seldon_proto.decode_feedback(seldon_proto.parse_json(obj, seldon_proto.Feedback()))
    routing = obj.get("response", {}).get("meta", {}).get("routing", {})
    message = partial(seldon_proto.parse_json, obj, seldon_proto.Feedback())
    return FeedbackRequest(features, names, kind, puid, reward, truth, routing, message)


def encode_feedback(
    result: Any, data_kind: str | None, meta: dict, class_names: Callable[[int], list]
) -> dict:
    """The original's answer is protobuf's JSON mapping of a ``SeldonMessage`` (numbers doubles,
    empty fields left out), so protobuf writes it; the request never passes through protobuf."""
    return seldon_proto.message_to_dict(seldon_proto.encode_feedback(result, data_kind, meta, class_names))
