"""The same three metrics from metrics() (static_*) and from SeldonResponse (runtime_*).

Each COUNTER adds 2 and has tags ``my-tag`` (an invalid label name) and ``model_name`` (a
default label, which must win). transform_input returns one runtime COUNTER of 1.
"""

from seldon_wrapper.component import SeldonResponse


def _metrics(prefix, tag):
    return [
        {"type": "COUNTER", "key": f"{prefix}_c", "value": 2, "tags": {"my-tag": tag, "model_name": "mine"}},
        {"type": "GAUGE", "key": f"{prefix}_g", "value": 7},
        {"type": "TIMER", "key": f"{prefix}_t", "value": 20},
    ]


class MetricsRuntime:
    def predict(self, X, feature_names):
        return SeldonResponse(X, metrics=_metrics("runtime", "r"))

    def transform_input(self, X, feature_names):
        return SeldonResponse(X, metrics=[{"type": "COUNTER", "key": "runtime_c", "value": 1}])

    def metrics(self):
        return _metrics("static", "s")
