"""V2 e2e model steered by the request parameter (meta tag) ``kind``.

No ``kind``: identity. ``describe``: a JSON document of what predict received (type, dtype,
shape, value, names, tags, puid). ``str``/``bytes``/``utf8bytes``/``dict``/``arrays``: fixed
results of that Python type. ``fail``: raises ValueError.
"""

import base64

import numpy as np


def _plain(value):
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value] if value.ndim else _plain(value.item())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def describe(X):
    if isinstance(X, dict):
        return {"type": "dict", "value": {key: describe(value) for key, value in X.items()}}
    if isinstance(X, np.ndarray):
        return {"type": "ndarray", "dtype": str(X.dtype), "shape": list(X.shape), "value": _plain(X)}
    return {"type": type(X).__name__, "value": _plain(X)}


class V2Probe:
    def predict(self, X, names, meta=None):
        meta = meta or {}
        tags = meta.get("tags", {})
        kind = tags.get("kind")
        if kind is None:
            return X
        if kind == "describe":
            return {"x": describe(X), "names": list(names), "tags": tags, "puid": meta.get("puid")}
        if kind == "str":
            return "hello from predict"
        if kind == "bytes":
            return b"\x00\xff\x10bin"
        if kind == "utf8bytes":
            return b"caf\xc3\xa9"
        if kind == "dict":
            return {"answer": 42, "label": "yes"}
        if kind == "arrays":
            return {"scores": np.array([[0.25, 0.75]]), "labels": ["a", "b"]}
        if kind == "fail":
            raise ValueError("boom from predict")
        raise ValueError(f"unknown kind {kind!r}")
