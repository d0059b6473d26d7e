"""Request bodies for the REST phases (deterministic, seed 0), written once per run.

v1_small.json  {"data":{"ndarray":[[1.0,2.0,3.0,4.0]]}}                         (40 B)
v2_small.json  V2 1x4 FP64 tensor "input-0"                                      (88 B)
v1_large.json  1000x100 floats as a v1 ndarray                                   (~0.93 MB)
v2_large.json  the same numbers as a V2 1000x100 FP64 tensor, flat "data"        (~0.93 MB)
"""

from __future__ import annotations

import json
import os
import random

ROWS, COLS = 1000, 100
SMALL = [1.0, 2.0, 3.0, 4.0]


def bodies() -> dict[str, object]:
    rng = random.Random(0)
    rows = [[round(rng.uniform(-1000.0, 1000.0), 4) for _ in range(COLS)] for _ in range(ROWS)]
    flat = [v for row in rows for v in row]

    def v2(shape: list[int], data: list[float]) -> dict:
        return {"inputs": [{"name": "input-0", "shape": shape, "datatype": "FP64", "data": data}]}

    return {
        "v1_small.json": {"data": {"ndarray": [SMALL]}},
        "v2_small.json": v2([1, len(SMALL)], SMALL),
        "v1_large.json": {"data": {"ndarray": rows}},
        "v2_large.json": v2([ROWS, COLS], flat),
    }


def write(directory: str) -> dict[str, str]:
    """Write every body into directory; returns {name: path}."""
    os.makedirs(directory, exist_ok=True)
    paths = {}
    for name, obj in bodies().items():
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            json.dump(obj, f, separators=(",", ":"))
        paths[name] = path
    return paths
