"""The batching benchmark's model: a fixed cost per predict call plus a small cost per row.

Like a scikit-learn or GPU model, one call for 64 rows costs about what one call for one row
does. The fixed part is real numpy work (matrix products), calibrated at load to about
FIXED_MS on this machine, so the figure means the same on a faster or slower one. Answers X
unchanged, so the load generators' identity checks hold.
"""

import os
import time

import numpy as np

FIXED_MS = float(os.environ.get("BENCH_FIXED_MS", "2"))
SIZE = 96


class VectorisedModel:
    def load(self):
        rng = np.random.default_rng(0)
        self.square = rng.random((SIZE, SIZE)) / SIZE
        self.per_row = rng.random((4, SIZE))
        given = os.environ.get("BENCH_FIXED_ROUNDS")  # bench/batching.py calibrates once for all
        if given:
            self.rounds = int(given)
            return
        started = time.perf_counter()
        for _ in range(200):
            self._fixed(1)
        per_round = (time.perf_counter() - started) / 200
        self.rounds = max(1, round(FIXED_MS / 1000 / per_round))

    def _fixed(self, rounds):
        acc = self.square
        for _ in range(rounds):
            acc = np.tanh(acc @ self.square)
        return acc

    def predict(self, X, features_names):
        self._fixed(self.rounds)
        np.tanh(np.asarray(X, dtype=float) @ self.per_row)  # the per-row cost
        return X
