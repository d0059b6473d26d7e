"""The example identity model: answers with the features it was given."""


class MyModel:
    def __init__(self):
        self.loaded = False

    def load(self):
        """Heavy initialisation belongs here: it runs in each serving process after fork."""
        self.loaded = True

    def predict(self, X, features_names=None):
        return X
