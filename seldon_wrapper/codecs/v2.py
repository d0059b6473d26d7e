"""V2 (Open Inference Protocol) tensors <-> numpy: JSON (flat or nested data), the binary tensor
data extension, and gRPC typed or raw contents.

Every tensor is decoded once into a numpy array with the request's shape; BYTES tensors become
object arrays with one ``str`` (JSON) or ``bytes`` (binary, gRPC) element per item.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seldon_wrapper.codecs.message import ParsedArray
from seldon_wrapper.errors import SeldonMicroserviceException

DTYPES: dict[str, Any] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    "BYTES": np.dtype(object),
}
# gRPC typed field per datatype (FP16 travels raw only).
CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
# Request parameters that steer the protocol; they are not the user's tags.
RESERVED_PARAMETERS = frozenset(
    {
        "content_type",
        "headers",
        "binary_data_output",
        "binary_data",
        "binary_data_size",
        "sequence_id",
        "sequence_start",
        "sequence_end",
        "priority",
        "timeout",
        "names",
    }
)


def bad_request(message: str) -> SeldonMicroserviceException:
    return SeldonMicroserviceException(message, status_code=400)


@dataclass
class Tensor:
    """One decoded input or output tensor."""

    name: str
    datatype: str
    shape: list[int]
    array: np.ndarray
    parameters: dict = field(default_factory=dict)


@dataclass
class Request:
    """A decoded inference request."""

    id: str | None
    parameters: dict
    inputs: list[Tensor]
    outputs: list[dict]  # requested outputs: {"name", "parameters"}
    binary: bool = False  # inputs came as raw bytes (binary extension or gRPC raw contents)


def datatype_of(array: np.ndarray) -> str:
    """The V2 datatype for a numpy array (strings and objects are BYTES)."""
    kind = array.dtype.kind
    size = array.dtype.itemsize
    if kind == "b":
        return "BOOL"
    if kind == "i":
        return {1: "INT8", 2: "INT16", 4: "INT32", 8: "INT64"}[size]
    if kind == "u":
        return {1: "UINT8", 2: "UINT16", 4: "UINT32", 8: "UINT64"}[size]
    if kind == "f":
        return {2: "FP16", 4: "FP32"}.get(size, "FP64")
    if kind in ("U", "S", "O"):
        return "BYTES"
    raise bad_request(f"Cannot represent numpy dtype {array.dtype} as a V2 datatype")


def _check_header(name: Any, datatype: Any, shape: Any) -> tuple[str, str, list[int]]:
    if not isinstance(name, str) or not name:
        raise bad_request("Every tensor needs a 'name'")
    if not isinstance(datatype, str) or datatype not in DTYPES:
        raise bad_request(f"Tensor '{name}': unsupported datatype {datatype!r}")
    if not isinstance(shape, (list, tuple)) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise bad_request(f"Tensor '{name}': 'shape' must be a list of non-negative integers")
    return name, datatype, list(shape)


def _flatten(data: Any) -> list:
    if not isinstance(data, list):
        return [data]
    if not any(isinstance(item, list) for item in data):
        return data
    flat: list = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _bytes_array(items: list, shape: list[int], name: str) -> np.ndarray:
    if len(items) != math.prod(shape):
        if len(shape) >= 2 and len(items) == math.prod(shape[:-1]):
            # MLServer's reading: the last dimension counts the bytes of each element
            # (e.g. "hello world" sent with shape [1, 11]); one element per leading index.
            shape = shape[:-1]
        else:
            raise bad_request(f"Tensor '{name}': {len(items)} elements do not fit shape {shape}")
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array.reshape(shape)


def _decode_base64(array: np.ndarray, name: str) -> np.ndarray:
    out = np.empty(array.size, dtype=object)
    for i, item in enumerate(array.ravel()):
        try:
            out[i] = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise bad_request(f"Tensor '{name}': element {i} is not base64") from None
    return out.reshape(array.shape)


def _holds_bool(values: Any, depth: int) -> bool:
    """Whether nested lists ``depth`` deep hold a bool, which numpy reads as 0 or 1 beside numbers."""
    items = values if isinstance(values, (list, tuple)) else [values]
    for _ in range(depth - 1):
        items = itertools.chain.from_iterable(items)
    return bool in map(type, items)


def _exact(items: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """What numpy cannot read in one array type, element by element: null (NaN) beside numbers
    in a float tensor; whole floats, or integers beyond 64 bits, in an integer tensor."""
    if dtype.kind == "f" and all(item is None or type(item) in (int, float) for item in items.flat):
        return items.astype(np.float64)
    whole = (type(item) is int or (type(item) is float and item.is_integer()) for item in items.flat)
    if dtype.kind in "iu" and all(whole):
        info = np.iinfo(dtype)
        if items.min() < info.min or items.max() > info.max:
            raise OverflowError(f"values outside the range of {dtype.name}")
        return items.astype(dtype)
    raise ValueError(f"values that are not all {'numbers' if dtype.kind == 'f' else 'integers'}")


def _to_dtype(values: Any, dtype: np.dtype, bools: bool = True) -> np.ndarray:
    """Values -> array of ``dtype`` only when the datatype holds each value as it is: a fraction,
    NaN or out-of-range number in an integer tensor, a string or a bool for a number, a number
    for a bool or one beyond a float type's range is an error (numpy would truncate, wrap,
    round or read it silently). ``bools``: whether ``values`` may hold any bool at all."""
    found = np.asarray(values)
    kind, target = found.dtype.kind, dtype.kind
    if found.size == 0:
        return found.astype(dtype)
    if target != "b" and (kind == "O" or (kind == "f" and target in "iu")):
        found = _exact(found if kind == "O" else np.array(values, dtype=object), dtype)
        kind = found.dtype.kind
    if kind not in "biuf":
        raise ValueError("values must all be numbers" if target != "b" else "values must all be booleans")
    if target == "b":
        if kind != "b" and not np.isin(found, (0, 1)).all():
            raise ValueError("values must all be booleans")
    elif kind == "b" or (bools and _holds_bool(values, found.ndim)):
        raise ValueError("a boolean is not a number")
    if target in "iu":
        info = np.iinfo(dtype)
        if found.min() < info.min or found.max() > info.max:
            raise OverflowError(f"values outside the range of {dtype.name}")
    if found.dtype == dtype:
        return found
    if target != "f" or kind != "f":
        return found.astype(dtype)
    with np.errstate(over="ignore"):  # a narrower float: what overflows is refused below
        out = found.astype(dtype)
    if (np.isinf(out) != np.isinf(found)).any():
        raise OverflowError(f"values outside the range of {dtype.name}")
    return out


def _typed_array(
    name: str, datatype: str, shape: list[int], values: Any, verb: str, bools: bool = True
) -> np.ndarray:
    """Numbers (flat or nested) -> array of ``shape``; a value or size mismatch is a 400 (``verb``:
    the word its message uses, "match" for JSON and "fit" for gRPC)."""
    try:
        array = _to_dtype(values, DTYPES[datatype], bools)
    except (ValueError, TypeError, OverflowError) as exc:
        raise bad_request(f"Tensor '{name}': data does not {verb} datatype {datatype} ({exc})") from None
    if array.size != math.prod(shape):
        raise bad_request(f"Tensor '{name}': {array.size} elements do not fit shape {shape}")
    return array.reshape(shape)


def array_from_json(name: str, datatype: str, shape: list[int], data: Any, bools: bool = True) -> np.ndarray:
    """JSON ``data`` (flat or nested) -> array of ``shape``; a size mismatch is a 400. ``bools``
    False says the request holds no JSON boolean (no need to look for one among numbers)."""
    if datatype == "BYTES":
        items = _flatten(data)
        for item in items:
            if not isinstance(item, str):
                raise bad_request(f"Tensor '{name}': BYTES elements must be strings in JSON")
        return _bytes_array(items, shape, name)
    if type(data) is ParsedArray:  # float64 already (speedups/ndarrays.py), checked as a list is
        data = data.array
    return _typed_array(name, datatype, shape, data, "match", bools)


def array_from_raw(name: str, datatype: str, shape: list[int], raw: bytes) -> np.ndarray:
    """Little-endian raw bytes -> array; BYTES elements are 4-byte-length prefixed."""
    if datatype == "BYTES":
        items: list[bytes] = []
        offset, total = 0, len(raw)
        while offset < total:
            if offset + 4 > total:
                raise bad_request(f"Tensor '{name}': truncated BYTES element length")
            (length,) = struct.unpack_from("<I", raw, offset)
            offset += 4
            if offset + length > total:
                raise bad_request(f"Tensor '{name}': truncated BYTES element")
            items.append(bytes(raw[offset : offset + length]))
            offset += length
        return _bytes_array(items, shape, name)
    dtype = DTYPES[datatype]
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise bad_request(
            f"Tensor '{name}': {len(raw)} bytes of data, shape {shape} of {datatype} needs {expected}"
        )
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def _as_bytes(item: Any) -> bytes:
    """A BYTES element as bytes (text as UTF-8)."""
    return item if isinstance(item, bytes) else str(item).encode("utf-8")


def raw_from_array(array: np.ndarray, datatype: str) -> bytes:
    """Array -> little-endian raw bytes (BYTES: 4-byte length + bytes per element)."""
    if datatype == "BYTES":
        items = [_as_bytes(item) for item in array.ravel()]
        return b"".join(struct.pack("<I", len(data)) + data for data in items)
    return np.ascontiguousarray(array, dtype=DTYPES[datatype]).tobytes()


# -- JSON requests (REST) -------------------------------------------------------------------


def decode_json_request(body: Any, tail: bytes = b"", bools: bool = True) -> Request:
    """A V2 JSON request (and its binary tail, if the binary extension was used); ``bools`` as
    in ``array_from_json``."""
    if not isinstance(body, dict):
        raise bad_request("The inference request must be a JSON object")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise bad_request("The inference request needs a non-empty 'inputs' list")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise bad_request("'parameters' must be an object")
    offset = 0
    binary = False
    tensors = []
    for item in inputs:
        if not isinstance(item, dict):
            raise bad_request("Every input must be an object")
        name, datatype, shape = _check_header(item.get("name"), item.get("datatype"), item.get("shape"))
        params = item.get("parameters") or {}
        if not isinstance(params, dict):
            raise bad_request(f"Tensor '{name}': 'parameters' must be an object")
        size = params.get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or size < 0:
                raise bad_request(f"Tensor '{name}': bad binary_data_size {size!r}")
            if offset + size > len(tail):
                raise bad_request(f"Tensor '{name}': binary data is truncated")
            array = array_from_raw(name, datatype, shape, tail[offset : offset + size])
            offset += size
            binary = True
        elif "data" in item:
            array = array_from_json(name, datatype, shape, item["data"], bools)
        else:
            raise bad_request(f"Tensor '{name}' has no 'data'")
        if datatype == "BYTES" and params.get("content_type") == "base64":
            array = _decode_base64(array, name)
        tensors.append(Tensor(name, datatype, list(array.shape), array, params))
    if offset != len(tail):
        raise bad_request(f"{len(tail) - offset} bytes of binary data belong to no input")
    outputs = body.get("outputs") or []
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise bad_request("'outputs' must be a list of objects with a 'name'")
    request_id = body.get("id")
    return Request(
        None if request_id is None else str(request_id),
        parameters,
        tensors,
        [{"name": o["name"], "parameters": o.get("parameters") or {}} for o in outputs],
        binary,
    )


def _json_data(tensor: Tensor) -> tuple[list, dict]:
    """JSON ``data`` for an output; BYTES that are not UTF-8 go as base64."""
    if tensor.datatype != "BYTES":
        if tensor.datatype == "FP16":  # orjson writes float16 only via float32
            return np.ascontiguousarray(tensor.array, dtype=np.float32).ravel(), {}
        return np.ascontiguousarray(tensor.array).ravel(), {}
    items = []
    as_base64 = False
    for item in tensor.array.ravel():
        if isinstance(item, bytes):
            try:
                items.append(item.decode("utf-8"))
            except UnicodeDecodeError:
                as_base64 = True
                break
        else:
            items.append(str(item))
    if as_base64:
        items = [base64.b64encode(_as_bytes(item)).decode("ascii") for item in tensor.array.ravel()]
        return items, {"content_type": "base64"}
    return items, {}


def encode_json_response(
    outputs: list[Tensor],
    model_name: str,
    model_version: str | None,
    request_id: str | None,
    parameters: dict,
    binary_outputs: set[str],
) -> tuple[dict, bytes]:
    """The response JSON object and the binary tail (for outputs sent with the extension)."""
    out_list = []
    tail_parts = []
    for tensor in outputs:
        entry: dict[str, Any] = {"name": tensor.name, "datatype": tensor.datatype, "shape": tensor.shape}
        params = dict(tensor.parameters)
        if tensor.name in binary_outputs:
            raw = raw_from_array(tensor.array, tensor.datatype)
            params["binary_data_size"] = len(raw)
            tail_parts.append(raw)
        else:
            data, extra = _json_data(tensor)
            params.update(extra)
            entry["data"] = data
        if params:
            entry["parameters"] = params
        out_list.append(entry)
    response: dict[str, Any] = {"model_name": model_name, "outputs": out_list}
    if model_version:
        response["model_version"] = model_version
    if request_id is not None:
        response["id"] = request_id
    if parameters:
        response["parameters"] = parameters
    return response, b"".join(tail_parts)


# -- protobuf requests (gRPC) ---------------------------------------------------------------


def parameter_value(param: Any) -> Any:
    which = param.WhichOneof("parameter_choice")
    return getattr(param, which) if which else None


def set_parameter(target: Any, key: str, value: Any) -> None:
    """Set one InferParameter; scalars only (lists/dicts travel as JSON text)."""
    param = target[key]
    if isinstance(value, bool):
        param.bool_param = value
    elif isinstance(value, int):
        param.int64_param = value
    elif isinstance(value, float):
        param.double_param = value
    elif isinstance(value, str):
        param.string_param = value
    else:
        import json

        param.string_param = json.dumps(value)


def _parameters(proto_map: Any) -> dict:
    return {key: parameter_value(value) for key, value in proto_map.items()}


def decode_proto_request(request: Any) -> Request:
    """A ModelInferRequest; raw contents fill, in order, the inputs without typed contents."""
    if not request.inputs:
        raise bad_request("The inference request needs at least one input")
    raw = list(request.raw_input_contents)
    raw_index = 0
    tensors = []
    for item in request.inputs:
        name, datatype, shape = _check_header(item.name, item.datatype, list(item.shape))
        params = _parameters(item.parameters)
        field_name = CONTENTS_FIELD.get(datatype)
        typed = getattr(item.contents, field_name) if field_name else ()
        if len(typed) == 0 and raw_index < len(raw):
            array = array_from_raw(name, datatype, shape, raw[raw_index])
            raw_index += 1
        elif datatype == "BYTES":
            array = _bytes_array(list(typed), shape, name)
        elif field_name is None:
            raise bad_request(f"Tensor '{name}': {datatype} data must be sent in raw_input_contents")
        else:
            array = _typed_array(name, datatype, shape, typed, "fit", bools=False)
        if datatype == "BYTES" and params.get("content_type") == "base64":
            array = _decode_base64(array, name)
        tensors.append(Tensor(name, datatype, list(array.shape), array, params))
    if raw_index != len(raw):
        raise bad_request(f"{len(raw) - raw_index} raw_input_contents entries belong to no input")
    outputs = [{"name": o.name, "parameters": _parameters(o.parameters)} for o in request.outputs]
    return Request(request.id or None, _parameters(request.parameters), tensors, outputs, bool(raw))


def encode_proto_response(
    response: Any,
    outputs: list[Tensor],
    model_name: str,
    model_version: str | None,
    request_id: str | None,
    parameters: dict,
    raw: bool,
) -> Any:
    """Fill a ModelInferResponse: raw contents iff the request used raw contents."""
    response.model_name = model_name
    if model_version:
        response.model_version = model_version
    if request_id:
        response.id = request_id
    for key, value in parameters.items():
        set_parameter(response.parameters, key, value)
    # FP16 has no typed field; raw contents are positional, so then every output goes raw.
    raw = raw or any(tensor.datatype == "FP16" for tensor in outputs)
    for tensor in outputs:
        out = response.outputs.add()
        out.name = tensor.name
        out.datatype = tensor.datatype
        out.shape.extend(tensor.shape)
        for key, value in tensor.parameters.items():
            set_parameter(out.parameters, key, value)
        if raw:
            response.raw_output_contents.append(raw_from_array(tensor.array, tensor.datatype))
        elif tensor.datatype == "BYTES":
            out.contents.bytes_contents.extend(_as_bytes(item) for item in tensor.array.ravel())
        else:
            getattr(out.contents, CONTENTS_FIELD[tensor.datatype]).extend(tensor.array.ravel().tolist())
    return response
