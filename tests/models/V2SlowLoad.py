"""V2 e2e model whose load() takes 2 seconds; predict is the identity."""

import time

LOAD_SECONDS = 2.0


class V2SlowLoad:
    def load(self):
        time.sleep(LOAD_SECONDS)

    def predict(self, X, names, meta=None):
        return X
