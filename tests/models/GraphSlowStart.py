"""Takes far longer to construct than a test's start-up timeout."""

import time


class GraphSlowStart:
    def __init__(self):
        time.sleep(60)

    def predict(self, X, features_names=None, **kwargs):
        return X
