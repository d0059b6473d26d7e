"""The example `health_status`: a model that reports itself unhealthy after failures in a row.

`predict` answers the natural logarithm of every value, rounded to 6 decimals. A value of 0 or
less is a failure of the model (it cannot take its log): it raises `ValueError`, which the
wrapper answers with 500.

`health_status()` is what `GET /health/status` (and `/api/v1.0/health/status`) answers. While
fewer than `max_failures` (a parameter, default 2) predictions in a row have failed it returns a
dict of counters, which the wrapper answers as `jsonData`. From `max_failures` on it raises
`RuntimeError`, which the wrapper answers with 500 and the Seldon error body; the next
successful prediction makes the model healthy again.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class GuardedModel:
    def __init__(self, max_failures: int = 2) -> None:
        self.max_failures = int(max_failures)
        self.failures_in_a_row = 0
        self.predictions = 0
        self.last_error = ""

    def predict(self, X: Any, feature_names: Any, meta: dict | None = None) -> np.ndarray:
        """The log of each value; values <= 0 fail (and count towards unhealthy)."""
        values = np.asarray(X, dtype=float)
        if (values <= 0).any():
            self.failures_in_a_row += 1
            self.last_error = f"cannot take the log of {values.min():g}"
            raise ValueError(self.last_error)
        self.failures_in_a_row = 0
        self.predictions += 1
        return np.round(np.log(values), 6)

    def health_status(self) -> dict:
        """Counters while healthy; raises once `max_failures` predictions in a row failed."""
        if self.failures_in_a_row >= self.max_failures:
            raise RuntimeError(
                f"{self.failures_in_a_row} predictions in a row failed, the last: {self.last_error}"
            )
        return {"failures_in_a_row": self.failures_in_a_row, "predictions": self.predictions, "status": "ok"}
