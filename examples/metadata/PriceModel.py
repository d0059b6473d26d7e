"""The example model with metadata: a linear model of a flat's price, described by init_metadata.

`predict` answers one price in thousands of euros per row of three features (floor area in m2,
number of rooms, distance to the city centre in km): `40 + 3.2 * area + 12 * rooms - 4.5 * km`,
rounded to one decimal, in one column named `price`.

`init_metadata()` describes it the way V2 clients read it: name `flat-price`, version `2`,
platform `numpy`, one input tensor `features` (FP64, `[-1, 3]`: any number of rows of three) and
one output tensor `price` (FP64, `[-1, 1]`), and `custom` strings. The wrapper validates the
metadata once at start; it is served on the v1 `/metadata` and gRPC `Model/Metadata`, and on
V2 as `/v2/models/flat-price` and gRPC `ModelMetadata`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seldon_wrapper.errors import SeldonMicroserviceException

WEIGHTS = np.array([3.2, 12.0, -4.5])
BIAS = 40.0


class PriceModel:
    def init_metadata(self) -> dict:
        """What the model takes and answers; validated against the Seldon metadata schema."""
        return {
            "name": "flat-price",
            "versions": ["2"],
            "platform": "numpy",
            "inputs": [{"name": "features", "datatype": "FP64", "shape": [-1, 3]}],
            "outputs": [{"name": "price", "datatype": "FP64", "shape": [-1, 1]}],
            "custom": {"features": "area_m2,rooms,centre_km", "unit": "kEUR"},
        }

    def predict(self, X: Any, feature_names: Any, meta: dict | None = None) -> np.ndarray:
        """One price per row, as a column."""
        rows = np.atleast_2d(np.asarray(X, dtype=float))
        if rows.shape[1] != len(WEIGHTS):
            raise SeldonMicroserviceException(f"PriceModel needs 3 features per row, got {rows.shape[1]}")
        return np.round(rows @ WEIGHTS + BIAS, 1).reshape(-1, 1)

    def class_names(self) -> list[str]:
        return ["price"]
