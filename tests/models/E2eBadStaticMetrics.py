"""metrics() returns an invalid metric; strData "both" also returns an invalid runtime metric."""

from seldon_wrapper.component import SeldonResponse


class E2eBadStaticMetrics:
    def metrics(self):
        return [{"type": "COUNTER", "key": "c", "value": "x"}]

    def predict(self, X, feature_names):
        if X == "both":
            return SeldonResponse(X, metrics=[{"type": "GAUGE", "key": "runtime"}])
        return X
