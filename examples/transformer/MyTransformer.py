"""The example transformer: scales the input on the way in, rounds the output on the way out.

Parameters: `scale` (default 2.0) multiplies every input feature in `transform_input`;
`decimals` (default 2) is how many decimals `transform_output` keeps.
"""

import numpy as np


class MyTransformer:
    def __init__(self, scale=2.0, decimals=2):
        self.scale = float(scale)
        self.decimals = int(decimals)

    def transform_input(self, X, feature_names, meta=None):
        return np.asarray(X, dtype=float) * self.scale

    def transform_output(self, X, feature_names, meta=None):
        return np.round(np.asarray(X, dtype=float), self.decimals)
