"""load() raises RuntimeError: the server must not come up."""


class LoadFailsModel:
    def load(self):
        raise RuntimeError("cannot load weights for LoadFailsModel")

    def predict(self, X, features_names):
        return X
