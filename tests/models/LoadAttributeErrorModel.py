"""load() raises AttributeError, which the wrapper must ignore."""


class LoadAttributeErrorModel:
    def load(self):
        raise AttributeError("LoadAttributeErrorModel has no attribute 'weights'")

    def predict(self, X, features_names):
        return X
