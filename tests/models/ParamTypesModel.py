"""Echoes its constructor parameters (and their Python types) as jsonData."""


class ParamTypesModel:
    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def predict(self, X, features_names):
        return {name: [value, type(value).__name__] for name, value in self.kwargs.items()}
