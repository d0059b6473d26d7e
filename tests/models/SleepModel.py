"""predict sleeps for the number of seconds in the first request value, then echoes X."""

import time


class SleepModel:
    def predict(self, X, features_names):
        time.sleep(float(X.ravel()[0]))
        return X
