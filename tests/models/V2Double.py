"""V2 e2e model: doubles numbers, negates booleans and repeats each str/bytes element twice."""

import numpy as np


class V2Double:
    def predict(self, X, names, meta=None):
        if isinstance(X, (str, bytes)):
            return X * 2
        X = np.asarray(X)
        if X.dtype == np.bool_:
            return ~X
        if X.dtype == object:
            out = np.empty(X.shape, dtype=object)
            for index, item in np.ndenumerate(X):
                out[index] = item * 2
            return out
        return X * 2
