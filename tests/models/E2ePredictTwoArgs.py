"""predict(X, names): the oldest signature, without meta."""


class E2ePredictTwoArgs:
    def predict(self, X, feature_names):
        if isinstance(X, dict):
            return {"names": list(feature_names), "got": X}
        return X + 1
