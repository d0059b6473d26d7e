"""The example model with custom metrics and tags, static and per request.

`predict` scores each row as the weighted sum of its features (`weights`, a parameter,
comma-separated, default `0.5,0.25,0.25`) and answers one column, `score`. Around that:

- `tags()` (static): `{"scorer": "weighted-sum"}` on every answer;
- `metrics()` (static): a COUNTER `scorer_requests` of 1 per call, with the metric tag
  `scorer`, which becomes a Prometheus label;
- per request, `predict` returns a `SeldonResponse` with the tag `rows` (the batch size) and
  three metrics: COUNTER `scorer_rows` (rows scored), GAUGE `scorer_last_batch_rows` (the size of
  the latest batch) and TIMER `scorer_estimated_cost` in milliseconds. A real model would time
  itself (`time.perf_counter()`); this one reports a fixed 2 ms per row, so that the README's
  numbers are the same on every run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seldon_wrapper.component import SeldonResponse
from seldon_wrapper.errors import SeldonMicroserviceException

COST_MS_PER_ROW = 2.0


class ScoreModel:
    def __init__(self, weights: str = "0.5,0.25,0.25") -> None:
        self.weights = np.array([float(weight) for weight in weights.split(",")])

    def predict(self, X: Any, feature_names: Any, meta: dict | None = None) -> SeldonResponse:
        """One score per row, with the per-request tags and metrics."""
        rows = np.atleast_2d(np.asarray(X, dtype=float))
        if rows.shape[1] != len(self.weights):
            raise SeldonMicroserviceException(
                f"ScoreModel needs {len(self.weights)} features per row, got {rows.shape[1]}"
            )
        count = rows.shape[0]
        return SeldonResponse(
            (rows @ self.weights).reshape(-1, 1),
            tags={"rows": count},
            metrics=[
                {"type": "COUNTER", "key": "scorer_rows", "value": count},
                {"type": "GAUGE", "key": "scorer_last_batch_rows", "value": count},
                {"type": "TIMER", "key": "scorer_estimated_cost", "value": COST_MS_PER_ROW * count},
            ],
        )

    def class_names(self) -> list[str]:
        """The name of the answer's one column."""
        return ["score"]

    def tags(self) -> dict:
        """Tags of every answer (request tags first, then these, then the per-request ones)."""
        return {"scorer": "weighted-sum"}

    def metrics(self) -> list[dict]:
        """Recorded on every call; a new list each time (the wrapper adds `method` to its tags)."""
        return [{"type": "COUNTER", "key": "scorer_requests", "value": 1, "tags": {"scorer": "weighted-sum"}}]
