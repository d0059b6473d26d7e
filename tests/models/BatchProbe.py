"""Batching probe: each predict call costs 30 ms whatever its size, answers X * 2, and tags the
answer with the rows the call saw, so callers can tell they shared a call."""

import time

from seldon_core.user_model import SeldonResponse


class BatchProbe:
    def tags(self):
        return {"model": "probe"}

    def predict(self, X, features_names, meta=None):
        time.sleep(0.03)
        if X.shape[1] == 3:
            return X[:1] * 2  # three columns: a bad batched model (one row whatever it was sent)
        return SeldonResponse(X * 2, tags={"call_rows": int(X.shape[0])})
