"""Identity ``predict`` plus the static metrics of spec 6.5's worked example.

metrics(): COUNTER c1 (tags a=b) += 1, GAUGE g1 = 5, TIMER t1 = 20 ms, on every high-level call.
"""


class MetricsStatic:
    def predict(self, X, feature_names):
        return X

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        return []

    def metrics(self):
        return [
            {"type": "COUNTER", "key": "c1", "value": 1, "tags": {"a": "b"}},
            {"type": "GAUGE", "key": "g1", "value": 5},
            {"type": "TIMER", "key": "t1", "value": 20},
        ]
