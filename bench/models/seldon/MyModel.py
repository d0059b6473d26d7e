"""Identity model for `seldon-core-microservice` (ours and the original): pure serving overhead."""


class MyModel:
    def predict(self, X, features_names=None):
        return X
