"""predict with strData naming one of the ``cases`` (a JSON object given as parameter) returns
those runtime metrics as they are; any other input returns a valid COUNTER ``good`` += 1."""

import json

from seldon_wrapper.component import SeldonResponse


class MetricsCases:
    def __init__(self, cases):
        self.cases = json.loads(cases)

    def predict(self, X, feature_names):
        if isinstance(X, str) and X in self.cases:
            return SeldonResponse(X, metrics=self.cases[X])
        return SeldonResponse(X, metrics=[{"type": "COUNTER", "key": "good", "value": 1}])
