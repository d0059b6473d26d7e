"""V2 e2e model with both methods: predict doubles, transform_input subtracts 1."""

import numpy as np


class V2PredictAndTransform:
    def predict(self, X, names, meta=None):
        return np.asarray(X) * 2

    def transform_input(self, X, names, meta=None):
        return np.asarray(X) - 1
