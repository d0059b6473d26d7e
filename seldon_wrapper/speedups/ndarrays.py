"""Large v1 ``data.ndarray`` bodies parsed straight into numpy, without Python lists.

For a 1000x100 float body, ``orjson.loads`` builds 100,000 float objects and ``np.array``
walks them again: two thirds of the request. simdjson parses the body into its tape and
copies the numbers into one buffer in C. The result must be exactly what
``np.array(json.loads(body)["data"]["ndarray"])`` gives, or the request takes the ordinary
path: any doubt (other keys in ``data``, ragged rows, booleans, strings, unsigned 64-bit
integers, duplicate keys, anything simdjson reads differently) returns ``None``.

The array travels in the payload as a ``ParsedArray``, so callers use this only where no
user code sees the request dict (no ``*_raw`` or legacy method).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import simdjson

from seldon_wrapper.codecs.message import ParsedArray

# Below this, orjson is as fast and the shape checks cost more than they save.
MIN_BODY_BYTES = 64 * 1024
# A parser keeps its buffers (about 5x the largest body it read): reusing one saves ~1,200
# page faults (2.3 ms) per 1 MB request; the pool is emptied when the worker goes quiet.
MAX_POOLED_BODY_BYTES = 16 * 1024 * 1024
_PARSE_ERRORS = (ValueError, RuntimeError, TypeError)  # invalid, big integer, wrong type
_UINT64_ONLY = 2.0**63  # integers from here on are not int64


class NdarrayParser:
    """Parses large SeldonMessages, reusing idle simdjson parsers (one per concurrent request)."""

    def __init__(self) -> None:
        self.idle: list[simdjson.Parser] = []  # list.pop/append are atomic: safe across threads

    def loads_message(self, raw: bytes) -> dict | None:
        """The SeldonMessage with its ndarray already in numpy, or ``None`` to parse it as usual."""
        return self._parse(raw, _message)

    def loads_v2_request(self, raw: bytes) -> dict | None:
        """The V2 request with its FP32/FP64 ``data`` already in numpy, or ``None``."""
        return self._parse(raw, _v2_request)

    def _parse(self, raw: bytes, build: Any) -> dict | None:
        if len(raw) < MIN_BODY_BYTES:
            return None
        try:
            parser = self.idle.pop()
        except IndexError:
            parser = simdjson.Parser()
        try:
            doc = parser.parse(raw)
            message = build(doc, raw)
            del doc  # no proxy into the parser may outlive its return to the pool
        except _PARSE_ERRORS:
            message = None
        if len(raw) <= MAX_POOLED_BODY_BYTES:
            self.idle.append(parser)
        return message

    def release(self) -> None:
        """Drop the idle parsers and their buffers (called once the worker is quiet)."""
        self.idle.clear()


def _keys(obj: Any) -> list[str] | None:
    keys = list(obj)
    return keys if len(set(keys)) == len(keys) else None  # duplicates: last one wins elsewhere


def _message(doc: Any, raw: bytes) -> dict | None:
    if type(doc) is not simdjson.Object or "data" not in doc:
        return None
    top_keys = _keys(doc)
    data = doc["data"]
    if top_keys is None or type(data) is not simdjson.Object:
        return None
    data_keys = _keys(data)
    if data_keys is None or "ndarray" not in data_keys or not set(data_keys) <= {"ndarray", "names"}:
        return None
    ndarray = data["ndarray"]
    if type(ndarray) is not simdjson.Array:
        return None
    shape, arrays = _shape(ndarray)
    if not shape:
        return None
    array = _numbers(ndarray, shape)
    if array is None:
        return None
    message = {key: _python(doc[key]) for key in top_keys if key != "data"}
    data_dict: dict[str, Any] = {"ndarray": ParsedArray(array)}
    if "names" in data_keys:
        data_dict["names"] = _python(data["names"])
    rest_arrays = _count_arrays(message) + _count_arrays(data_dict.get("names"))
    # A leaf that is itself an array (``[[1, 2], [3, [4]]]``) is flattened by as_buffer and
    # escapes the shape walk; it would add a ``[`` to the body. Strings holding ``[`` make
    # the count ambiguous, and _count_arrays gives up on them.
    if rest_arrays < 0 or raw.count(b"[") != arrays + rest_arrays:
        return None
    message["data"] = data_dict
    return message


def _v2_request(doc: Any, raw: bytes) -> dict | None:
    """V2 float tensors' data as float64 arrays; the codec checks and casts them like lists."""
    if type(doc) is not simdjson.Object or _keys(doc) is None or "inputs" not in doc:
        return None
    inputs, arrays = doc["inputs"], 0
    if type(inputs) is not simdjson.Array:
        return None
    request = {key: _python(doc[key]) for key in doc if key != "inputs"}
    request["inputs"] = []
    for item in inputs:
        if type(item) is not simdjson.Object or _keys(item) is None:
            return None
        entry = {key: _python(item[key]) for key in item if key != "data"}
        if "data" in item:
            data = item["data"]
            if type(data) is simdjson.Array and entry.get("datatype") in ("FP32", "FP64"):
                shape, count = _shape(data)
                values = _doubles(data, shape) if shape else None
                if values is None:
                    return None  # booleans, strings, nulls, ragged or empty: the codec decides
                entry["data"], arrays = ParsedArray(values), arrays + count
            else:
                entry["data"] = _python(data)
        request["inputs"].append(entry)
    rest_arrays = _count_arrays(request)  # as in _message: no array may hide in a leaf
    if rest_arrays < 0 or raw.count(b"[") != arrays + rest_arrays:
        return None
    return request


def _doubles(data: Any, shape: list[int]) -> np.ndarray | None:
    values = np.frombuffer(data.as_buffer(of_type="d"), dtype=np.float64)
    return values.reshape(shape).copy() if values.size == math.prod(shape) else None


def _shape(ndarray: Any) -> tuple[list[int], int]:
    """The rectangular shape above the leaves and the number of arrays in it; ``[]`` if ragged."""
    shape = [len(ndarray)]
    level = [ndarray]
    arrays = 1
    while shape[-1]:
        probe = level[0][0]
        if type(probe) is not simdjson.Array:
            return shape, arrays
        width = len(probe)
        below = []
        for array in level:
            for item in array:
                if type(item) is not simdjson.Array or len(item) != width:
                    return [], 0
                below.append(item)
        arrays += len(below)
        shape.append(width)
        level = below
    return [], 0  # an empty dimension: np.array's dtype rules for [] are left to numpy


def _numbers(ndarray: Any, shape: list[int]) -> np.ndarray | None:
    """int64 if every leaf is an int64 integer, float64 if some leaf is a float, as np.array."""
    try:
        values = np.frombuffer(ndarray.as_buffer(of_type="i"), dtype=np.int64)
    except _PARSE_ERRORS:
        try:
            values = np.frombuffer(ndarray.as_buffer(of_type="d"), dtype=np.float64)
        except _PARSE_ERRORS:
            return None  # booleans, strings, nulls, objects
        # as_buffer("i") also fails on integers above int64, which np.array keeps as uint64
        # (or refuses); only a leaf with a fraction proves the array is float64 for np.array too.
        if values.size and values.max() >= _UINT64_ONLY and np.all(values == np.floor(values)):
            return None
    if values.size != math.prod(shape):
        return None
    # A copy owns its data, as np.array's result does (users may resize it in place).
    return values.reshape(shape).copy()


def _python(value: Any) -> Any:
    if type(value) is simdjson.Object:
        return value.as_dict()
    if type(value) is simdjson.Array:
        return value.as_list()
    return value


def _count_arrays(value: Any) -> int:
    """Lists in a decoded value, or -1 when a string in it (key or value) holds ``[``."""
    if isinstance(value, list):
        total, items = 1, value
    elif isinstance(value, dict):
        if any("[" in key for key in value):
            return -1
        total, items = 0, value.values()
    else:
        return -1 if isinstance(value, str) and "[" in value else 0
    for item in items:
        count = _count_arrays(item)
        if count < 0:
            return -1
        total += count
    return total
