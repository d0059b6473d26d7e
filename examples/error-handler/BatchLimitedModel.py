"""The example model with its own REST error answers: a Flask blueprint as `model_error_handler`.

`predict` answers the sum of each row, for at most `max_rows` rows (a parameter, default 3).
A larger batch raises `BatchTooLarge`, an exception of the model's own; the blueprint
`batch_errors`, set as the class attribute `model_error_handler`, answers it over REST with
HTTP 413 and a body of the model's choosing. The wrapper registers the blueprint on its Flask
app, so its `app_errorhandler`s take precedence for their exception classes; every other failure
keeps the Seldon error body.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from flask import Blueprint, Response, jsonify

from seldon_wrapper.errors import SeldonMicroserviceException


class BatchTooLarge(Exception):
    """A batch above the model's limit: the client should split it."""

    def __init__(self, rows: int, limit: int) -> None:
        super().__init__(f"{rows} rows sent, at most {limit} per request")
        self.rows = rows
        self.limit = limit


batch_errors = Blueprint("batch_errors", __name__)


@batch_errors.app_errorhandler(BatchTooLarge)
def answer_batch_too_large(error: BatchTooLarge) -> tuple[Response, int]:
    """HTTP 413 with a body that says how to retry."""
    body = {
        "error": {"code": "BATCH_TOO_LARGE", "message": str(error), "limit": error.limit, "rows": error.rows}
    }
    return jsonify(body), 413


class BatchLimitedModel:
    model_error_handler = batch_errors

    def __init__(self, max_rows: int = 3) -> None:
        self.max_rows = int(max_rows)

    def predict(self, X: Any, feature_names: Any, meta: dict | None = None) -> np.ndarray:
        """The sum of each row, as a column."""
        if not isinstance(X, np.ndarray) or X.dtype.kind not in "iuf":
            raise SeldonMicroserviceException(
                "BatchLimitedModel needs rows of numbers (data.ndarray or data.tensor)"
            )
        rows = np.atleast_2d(X)
        if rows.shape[0] > self.max_rows:
            raise BatchTooLarge(rows.shape[0], self.max_rows)
        return rows.sum(axis=1, keepdims=True)
