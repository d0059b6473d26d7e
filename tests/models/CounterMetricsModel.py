class CounterMetricsModel:
    """Identity ``predict`` plus the static COUNTER metric of the spec's worked example."""

    def predict(self, X, features_names):
        return X

    def metrics(self):
        return [{"type": "COUNTER", "key": "reqs", "value": 1}]
