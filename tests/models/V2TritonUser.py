"""V2 e2e model whose module imports tritonclient.grpc (a transformer that would call Triton)."""

import tritonclient.grpc  # noqa: F401


class V2TritonUser:
    def predict(self, X, names, meta=None):
        return X
