"""health_status answers a list; init_metadata mixes V2 and V1 entries (valid)."""

METADATA = {
    "name": "my-model-name",
    "versions": ["model-version"],
    "platform": "model-platform",
    "inputs": [
        {"name": "input", "datatype": "BYTES", "shape": [1]},
        {"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}},
    ],
    "outputs": [
        {"name": "output", "datatype": "BYTES", "shape": [1]},
        {"messagetype": "jsonData", "schema": {"type": "object"}},
        {"messagetype": "strData"},
        {"messagetype": "customData", "schema": {}},
    ],
    "custom": {"author": "e2e"},
}


class E2eHealthList:
    def health_status(self):
        return [1, 2]

    def init_metadata(self):
        return METADATA
