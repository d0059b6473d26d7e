"""A model module whose class is not named like the file (for the missing-class error)."""


class SomethingElse:
    def predict(self, X, features_names):
        return X
