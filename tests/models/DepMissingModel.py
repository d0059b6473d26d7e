"""The module exists, but a helper module it imports does not."""

import DepMissing  # noqa: F401


class DepMissingModel:
    def predict(self, X, features_names):
        return X
