"""The example output transformer: turns a classifier's scores into class labels.

A Seldon Core v1 OUTPUT_TRANSFORMER node sits after a model in the inference graph and rewrites
the model's answer before the client sees it. Here the model answers one row of class scores per
request row; `transform_output` answers, per row, the label of the best score, or `unsure` when
that score is below `threshold` (a parameter, default 0.5).

The labels are the `names` of the model's answer (its `class_names`, which the executor passes
on), or the `labels` parameter (comma-separated, default `cat,dog,bird`) when the answer's names
are the wrapper's defaults (`t:0`, `t:1`, ...) or missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seldon_wrapper.errors import SeldonMicroserviceException


class Labeller:
    def __init__(self, labels: str = "cat,dog,bird", threshold: float = 0.5) -> None:
        self.labels = [label.strip() for label in labels.split(",")]
        self.threshold = float(threshold)

    def transform_output(self, X: Any, feature_names: Any, meta: dict | None = None) -> list[list[str]]:
        """One label per row of scores: a list of lists of `str`, answered as an `ndarray`."""
        try:
            scores = np.atleast_2d(np.asarray(X, dtype=float))
        except (TypeError, ValueError):
            raise SeldonMicroserviceException(
                f"Labeller needs rows of scores, got {type(X).__name__}"
            ) from None
        labels = self._labels(list(feature_names))
        if scores.ndim != 2 or scores.shape[1] != len(labels):
            wanted = f"{len(labels)} scores per row ({', '.join(labels)})"
            raise SeldonMicroserviceException(f"Labeller needs {wanted}, got shape {list(scores.shape)}")
        best = scores.argmax(axis=1)
        return [
            [labels[column] if row[column] >= self.threshold else "unsure"]
            for row, column in zip(scores, best, strict=True)
        ]

    def class_names(self) -> list[str]:
        """The name of the answer's one column (the wrapper uses it for 2-D answers)."""
        return ["label"]

    def _labels(self, names: list[str]) -> list[str]:
        """The model's class names when it sent real ones, else the `labels` parameter."""
        if names and not all(name == f"t:{i}" for i, name in enumerate(names)):
            return names
        return self.labels
