"""Static tags()/metrics() plus per-request SeldonResponse tags/metrics.

predict: an array input answers SeldonResponse(X, runtime tags, runtime GAUGE metric);
strData names a bad runtime metric to return (see BAD_METRICS) or is echoed plainly.
"""

from seldon_wrapper.component import SeldonResponse

BAD_METRICS = {
    "bad-type": [{"type": "WRONG", "key": "k", "value": 1}],
    "missing-key": [{"type": "COUNTER", "value": 1}],
    "bad-value": [{"type": "COUNTER", "key": "k", "value": "1"}],
    "not-a-list": {"type": "COUNTER", "key": "k", "value": 1},
}


class E2eTagsMetrics:
    def tags(self):
        return {"st": "s", "shared": "static"}

    def metrics(self):
        return [
            {"type": "COUNTER", "key": "reqs", "value": 1},
            {"type": "TIMER", "key": "lat", "value": 2.5, "tags": {"model": "m"}},
        ]

    def predict(self, X, feature_names, meta=None):
        if isinstance(X, str):
            if X in BAD_METRICS:
                return SeldonResponse(X, metrics=BAD_METRICS[X])
            return X
        return SeldonResponse(
            X,
            tags={"rt": "1", "shared": "runtime"},
            metrics=[{"type": "GAUGE", "key": "g", "value": 3, "tags": {"l": "v"}}],
        )
