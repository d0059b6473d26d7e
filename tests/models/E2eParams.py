"""Keeps its constructor parameters; predict(X, names, **kwargs) answers them with their types."""


class E2eParams:
    def __init__(self, **params):
        self.params = params

    def predict(self, X, feature_names, **kwargs):
        return {
            "params": {
                name: {"type": type(value).__name__, "value": value} for name, value in self.params.items()
            },
            "kwargs": sorted(kwargs),
            "meta_seen": kwargs.get("meta"),
        }
