"""The constructor raises: start-up must fail with one clear line."""


class InitFailsModel:
    def __init__(self):
        raise ValueError("weights file /nowhere/model.bin is missing")

    def predict(self, X, features_names):
        return X
