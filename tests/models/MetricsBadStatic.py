"""metrics() returns an invalid COUNTER (non-numeric value); predict returns a valid runtime
COUNTER ``runtime_ok`` += 1, which is validated and recorded before the static ones (spec 6.2)."""

from seldon_wrapper.component import SeldonResponse


class MetricsBadStatic:
    def predict(self, X, feature_names):
        return SeldonResponse(X, metrics=[{"type": "COUNTER", "key": "runtime_ok", "value": 1}])

    def metrics(self):
        return [{"type": "COUNTER", "key": "static_bad", "value": "1"}]
