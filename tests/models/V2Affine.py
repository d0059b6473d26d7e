"""V2 e2e model: predict computes X * 2 + 1 (the same numbers over v1 and V2)."""

import numpy as np


class V2Affine:
    def predict(self, X, names, meta=None):
        return np.asarray(X) * 2 + 1
