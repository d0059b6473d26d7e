"""TensorFlow ``TensorProto`` <-> numpy without TensorFlow installed (the ``tftensor`` payload)."""

from __future__ import annotations

import numpy as np

from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.proto.tensorflow.core.framework import tensor_pb2, types_pb2

_DT = types_pb2

# dtype enum -> (numpy dtype, name of the typed *_val field)
_FROM_TF = {
    _DT.DT_FLOAT: (np.float32, "float_val"),
    _DT.DT_DOUBLE: (np.float64, "double_val"),
    _DT.DT_INT32: (np.int32, "int_val"),
    _DT.DT_UINT8: (np.uint8, "int_val"),
    _DT.DT_INT16: (np.int16, "int_val"),
    _DT.DT_INT8: (np.int8, "int_val"),
    _DT.DT_UINT16: (np.uint16, "int_val"),
    _DT.DT_INT64: (np.int64, "int64_val"),
    _DT.DT_BOOL: (np.bool_, "bool_val"),
    _DT.DT_HALF: (np.float16, "half_val"),
    _DT.DT_UINT32: (np.uint32, "uint32_val"),
    _DT.DT_UINT64: (np.uint64, "uint64_val"),
    _DT.DT_COMPLEX64: (np.complex64, "scomplex_val"),
    _DT.DT_COMPLEX128: (np.complex128, "dcomplex_val"),
    _DT.DT_STRING: (np.object_, "string_val"),
}

# numpy dtype -> dtype enum (strings are handled apart)
_TO_TF = {np.dtype(dtype): tf_type for tf_type, (dtype, _) in _FROM_TF.items() if dtype is not np.object_}


def to_ndarray(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """Decode like TensorFlow's ``make_ndarray``: tensor_content first, else the typed values."""
    shape = [dim.size for dim in proto.tensor_shape.dim]
    size = int(np.prod(shape)) if shape else 1
    try:
        dtype, field = _FROM_TF[proto.dtype]
    except KeyError:
        name = (
            types_pb2.DataType.Name(proto.dtype)
            if proto.dtype in types_pb2.DataType.values()
            else proto.dtype
        )
        raise SeldonMicroserviceException(f"Unsupported tftensor dtype: {name}") from None
    try:
        if proto.tensor_content:
            if dtype is np.object_:
                raise SeldonMicroserviceException("tftensor of strings cannot use tensor_content")
            return np.frombuffer(proto.tensor_content, dtype=dtype).copy().reshape(shape)
        if dtype is np.object_:
            values = np.array(list(proto.string_val), dtype=object)
        elif field == "half_val":
            values = np.array(proto.half_val, dtype=np.uint16).view(np.float16)
        elif dtype in (np.complex64, np.complex128):
            flat = np.array(getattr(proto, field), dtype=np.float64)
            values = (flat[0::2] + 1j * flat[1::2]).astype(dtype)
        else:
            values = np.array(getattr(proto, field), dtype=dtype)
        if values.size == size:
            return values.reshape(shape)
        if values.size == 0:
            return (
                np.zeros(shape, dtype=dtype) if dtype is not np.object_ else np.full(shape, b"", dtype=object)
            )
        if values.size > size:
            raise SeldonMicroserviceException(f"Invalid tftensor: {values.size} values for shape {shape}")
        # TensorFlow repeats the last value to fill the shape.
        padded = np.concatenate([values, np.repeat(values[-1:], size - values.size)])
        return padded.reshape(shape)
    except ValueError as exc:
        raise SeldonMicroserviceException(f"Invalid tftensor: {exc}") from None


def from_ndarray(array: np.ndarray) -> tensor_pb2.TensorProto:
    """Encode like TensorFlow's ``make_tensor_proto``: numbers in tensor_content, strings typed."""
    proto = tensor_pb2.TensorProto()
    for size in array.shape:
        proto.tensor_shape.dim.add().size = int(size)
    if array.dtype.kind in ("U", "S", "O"):
        proto.dtype = _DT.DT_STRING
        proto.string_val.extend(
            item if isinstance(item, bytes) else str(item).encode("utf-8") for item in array.ravel()
        )
        return proto
    dtype = _TO_TF.get(array.dtype)
    if dtype is None:
        raise SeldonMicroserviceException(f"Cannot encode dtype {array.dtype} as tftensor")
    proto.dtype = dtype
    if dtype == _DT.DT_BOOL:
        proto.bool_val.extend(array.ravel().tolist())
    else:
        proto.tensor_content = np.ascontiguousarray(array).tobytes()
    return proto
