"""V2 e2e model: identity predict with init_metadata mixing V2 tensors, v1 entries and custom."""

METADATA = {
    "name": "meta-model",
    "versions": ["v1", "v2"],
    "platform": "custom-platform",
    "inputs": [
        {"name": "features", "datatype": "FP32", "shape": [-1, 3]},
        {"messagetype": "ndarray", "schema": {"names": ["a", "b"], "shape": [2]}},
        {"messagetype": "jsonData"},
    ],
    "outputs": [
        {"name": "scores", "datatype": "FP64", "shape": [-1, 1]},
        {"messagetype": "strData"},
    ],
    "custom": {"author": "tests", "tier": "gold"},
}


class V2Meta:
    def init_metadata(self):
        return METADATA

    def predict(self, X, names, meta=None):
        return X
