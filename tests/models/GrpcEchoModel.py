"""Identity ``predict`` for the gRPC tests, steered by the request's ``meta.tags.out``.

out = "describe" -> jsonData describing what predict received (type, dtype, value, names, meta)
out = "ints"     -> [[1, 2]]          out = "strings" -> [["a", "b"]]
out = "dict"     -> {"k": "v"}        out = "bytes"   -> b"\\x00\\x01"
out = "str"      -> "text"            out = "three-d" -> [[[1, 2, 3]]]
otherwise        -> X unchanged
"""

import numpy as np
from google.protobuf import any_pb2

FIXED = {
    "ints": [[1, 2]],
    "strings": [["a", "b"]],
    "dict": {"k": "v"},
    "bytes": b"\x00\x01",
    "str": "text",
    "three-d": [[[1, 2, 3]]],
}


def _value(X):
    if isinstance(X, np.ndarray):
        return X.tolist()
    if isinstance(X, bytes):
        return X.hex()
    if isinstance(X, any_pb2.Any):
        return {"type_url": X.type_url, "value_hex": X.value.hex()}
    return X


def describe(X, names, meta):
    tags = (meta or {}).get("tags") or {}
    return {
        "x_type": type(X).__name__,
        "dtype": str(X.dtype) if isinstance(X, np.ndarray) else "",
        "value": _value(X),
        "repr": repr(X) if isinstance(X, (dict, list)) else "",
        "names": list(names),
        "meta": meta,
        "tag_types": {key: type(value).__name__ for key, value in tags.items()},
    }


class GrpcEchoModel:
    def predict(self, X, feature_names, meta=None):
        out = ((meta or {}).get("tags") or {}).get("out")
        if out == "describe":
            return describe(X, feature_names, meta)
        if out in FIXED:
            return FIXED[out]
        return X
